#!/bin/sh
# No heap in the firmware: fail the build if the malloc family or _sbrk is in
# the image.  Usage: check_heap.sh NM IMAGE BOARD OBJS...
# For the host board the image links glibc (which has a malloc of its own), so
# the check runs on the objects built from this project, lwIP and mbedTLS:
# none of them may reference the malloc family.
NM=$1; IMAGE=$2; BOARD=$3; shift 3
PAT='^(malloc|free|calloc|realloc|_malloc_r|_free_r|_calloc_r|_realloc_r|_sbrk|_sbrk_r|__wrap_malloc)$'
if [ "$BOARD" = host ]; then
    bad=$(for o in "$@"; do $NM -u "$o" | awk -v o="$o" '{print $NF, o}'; done | grep -E "^(malloc|free|calloc|realloc|strdup) ")
else
    bad=$($NM "$IMAGE" | awk '{print $NF}' | grep -E "$PAT")
fi
if [ -n "$bad" ]; then
    echo "check_heap: heap functions linked into $IMAGE (the firmware must use static memory only):" >&2
    echo "$bad" | sed 's/^/  /' >&2
    rm -f "$IMAGE"
    exit 1
fi
