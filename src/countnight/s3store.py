"""The object store itself: an ``s3://BUCKET/PREFIX`` target and the few calls the publisher makes, through boto3.

boto3 (AWS's own SDK) because it is the most used and best kept S3 client, speaks to every S3-compatible
store (AWS S3, Cloudflare R2, Google Cloud Storage's XML API, MinIO, SeaweedFS, Ceph), and finds endpoint
and credentials the standard way (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``,
``AWS_PROFILE`` and ``~/.aws``). Its client is safe to share between threads, so the publisher's uploads
run side by side on one connection pool. A watch-mode change is a handful of small objects: the time goes
in round trips, not in the client, so a faster client (obstore) buys nothing worth a second stack.
Nothing here signs a request by hand, and nothing is imported until a publish starts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .storeplan import ObjectMeta

if TYPE_CHECKING:
    from botocore.client import BaseClient

MARK = "countnight"  # x-amz-meta-countnight: the MD5 of what was sent; tells our objects from others'
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-_]{1,254}$")  # S3's own rule, loosened for R2 and MinIO names


class StoreError(Exception):
    """The store could not be reached or refused a request; the message says why in plain words.
    ``lasting``: trying again will not help until someone acts (credentials, a missing bucket)."""

    def __init__(self, message: str, *, lasting: bool = False) -> None:
        super().__init__(message)
        self.lasting = lasting


_UNREACHABLE = re.compile(r"[?#%\\\x00-\x1f\x7f]")  # a query, a fragment, an escape, a Windows separator, controls
_PREFIX_MAX = 512  # bytes: S3 keys are at most 1,024, and an entry's share page is update/ID.html


@dataclass(frozen=True)
class Target:
    """Where the site goes: a bucket and a key prefix (empty, or ending in /)."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> Target:
        """``s3://BUCKET/PREFIX`` → Target; ValueError saying what is wrong (the address quoted as Python would,
        so a control character in it is shown, never sent to the terminal)."""
        text = url.strip()
        if not text.startswith("s3://"):
            raise ValueError(f"{url!r} is not an s3://BUCKET/PREFIX address")
        bucket, _, prefix = text[5:].partition("/")
        if not _BUCKET.match(bucket):
            raise ValueError(f"{url!r}: {bucket!r} is not a bucket name (lower-case letters, digits, '-', '.')")
        prefix = prefix.strip("/")
        if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
            raise ValueError(f"{url!r}: the prefix may not hold empty, '.' or '..' parts")
        if _UNREACHABLE.search(prefix):  # a key may hold them; a reader's address cannot reach it through them
            raise ValueError(f"{url!r}: the prefix may not hold '?', '#', '%', '\\' or control characters")
        if (size := len(prefix.encode())) > _PREFIX_MAX:
            raise ValueError(
                f"{url!r}: the prefix is {size} bytes; at most {_PREFIX_MAX}, to leave the site's "
                f"names room in the store's keys (1,024 bytes)"
            )
        return cls(bucket, prefix + "/" if prefix else "")

    def key(self, name: str) -> str:
        return self.prefix + name

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class Listed:
    """An object under the prefix: its name in the site and its ETag (without quotes)."""

    name: str
    etag: str


def _error(err: BaseException) -> StoreError:
    reason = _reason(err)
    return StoreError(reason, lasting=reason.startswith(("no credentials", "the bucket", "the store refused")))


def _reason(err: BaseException) -> str:
    """A store error in a sentence, for the console and for ``publish``'s exit message."""
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, PartialCredentialsError

    if isinstance(err, NoCredentialsError | PartialCredentialsError):
        return "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
    if isinstance(err, EndpointConnectionError):
        return f"cannot reach the store at {err.kwargs.get('endpoint_url', 'its endpoint')}"
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        code, message = error.get("Code", "?"), error.get("Message", "")
        if code == "NoSuchBucket":
            return "the bucket does not exist (create it first)"
        if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403"):
            return f"the store refused the credentials ({code})"
        return f"{code}{': ' + message if message else ''}"
    return f"{type(err).__name__}: {err}"


class Store:
    """One target in one store, through one boto3 client shared by the publisher's upload threads."""

    def __init__(self, target: Target, *, endpoint: str | None = None, profile: str | None = None, pool: int = 16):
        import boto3
        from botocore.config import Config

        self.target = target
        self.endpoint = endpoint
        try:
            session = boto3.Session(profile_name=profile)
        except Exception as err:  # an unknown profile
            raise StoreError(f"AWS profile {profile!r}: {err}") from None
        config = Config(
            connect_timeout=3,
            read_timeout=20,
            retries={"mode": "standard", "max_attempts": 2},  # the publisher retries whole batches, with backoff
            max_pool_connections=pool,
            # Content-MD5 (sent with every upload) already makes the store refuse damaged bytes: no second
            # checksum (CRC32, botocore's default since 1.36) computed and checked for every object as well.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        region = session.region_name or "us-east-1"  # a custom endpoint (MinIO, R2: "auto") rarely needs one
        given = "--endpoint or AWS_ENDPOINT_URL" if endpoint else "AWS_ENDPOINT_URL or the AWS profile's endpoint_url"
        try:
            self.client: BaseClient = session.client("s3", endpoint_url=endpoint, region_name=region, config=config)
        except ValueError as err:  # botocore's "Invalid endpoint: …": said once, not as a traceback
            raise StoreError(f"the store's address ({given}): {err}") from None
        self.where = endpoint or self.client.meta.endpoint_url
        parts = urlsplit(self.where)
        if parts.scheme not in ("http", "https") or not parts.hostname:  # else each request fails, with retries
            raise StoreError(f"the store's address ({given}): {self.where!r} is not an http:// or https:// address")

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(**kwargs)
        except Exception as err:
            raise _error(err) from err

    def list(self) -> Iterator[Listed]:
        """Every object under the prefix."""
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.target.bucket, Prefix=self.target.prefix)
        try:
            for page in pages:
                for item in page.get("Contents", ()):
                    yield Listed(item["Key"][len(self.target.prefix) :], item.get("ETag", "").strip('"'))
        except Exception as err:
            raise _error(err) from err

    def put(self, name: str, data: bytes, meta: ObjectMeta, md5: str) -> str:
        """Upload one object; its ETag. Content-MD5 makes the store refuse bytes damaged on the way."""
        import base64

        extra = {"ContentEncoding": meta.content_encoding} if meta.content_encoding else {}
        answer = self._call(
            "put_object",
            Bucket=self.target.bucket,
            Key=self.target.key(name),
            Body=data,
            ContentType=meta.content_type,
            CacheControl=meta.cache_control,
            ContentMD5=base64.b64encode(bytes.fromhex(md5)).decode(),
            Metadata={MARK: md5},
            **extra,
        )
        return str(answer.get("ETag", "")).strip('"')

    def ours(self, name: str) -> bool:
        """Whether an object countnight has no record of was put there by countnight (its mark)."""
        answer = self._call("head_object", Bucket=self.target.bucket, Key=self.target.key(name))
        return MARK in answer.get("Metadata", {})

    def delete(self, names: Iterable[str]) -> None:
        """Delete objects, a thousand a request (S3's limit)."""
        keys = [{"Key": self.target.key(name)} for name in names]
        for start in range(0, len(keys), 1000):
            answer = self._call(
                "delete_objects",
                Bucket=self.target.bucket,
                Delete={"Objects": keys[start : start + 1000], "Quiet": True},
            )
            errors = answer.get("Errors") or []
            if errors:
                first = errors[0]
                raise StoreError(f"could not delete {first.get('Key')}: {first.get('Code')} {first.get('Message', '')}")

    def close(self) -> None:
        self.client.close()
