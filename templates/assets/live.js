/* countnight: keeps the open page up to date by polling live.json (see the readers' guide in the README). */
"use strict";
