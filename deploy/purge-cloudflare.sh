#!/bin/sh
# countnight: purge Cloudflare's cache of the objects an upload changed (a [publish] purge_command).
#
#   [publish]
#   to = "s3://night/"
#   purge_command = ["deploy/purge-cloudflare.sh"]
#
# countnight runs it after each upload with every changed public address as arguments (base_url + path).
# CLOUDFLARE_ZONE_ID and CLOUDFLARE_API_TOKEN (a token with Zone.Cache Purge) come from the environment,
# never from countnight.toml. Cloudflare takes at most 30 addresses a request: they go in batches.
set -eu
: "${CLOUDFLARE_ZONE_ID:?set CLOUDFLARE_ZONE_ID}" "${CLOUDFLARE_API_TOKEN:?set CLOUDFLARE_API_TOKEN}"
while [ "$#" -gt 0 ]; do
    batch=""
    n=0
    while [ "$#" -gt 0 ] && [ "$n" -lt 30 ]; do
        batch="$batch${batch:+,}\"$1\""
        n=$((n + 1))
        shift
    done
    curl -fsS -X POST "https://api.cloudflare.com/client/v4/zones/$CLOUDFLARE_ZONE_ID/purge_cache" \
        -H "Authorization: Bearer $CLOUDFLARE_API_TOKEN" -H "Content-Type: application/json" \
        --data "{\"files\":[$batch]}" >/dev/null
done
