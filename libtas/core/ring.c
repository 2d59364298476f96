/* ring.c - copying between a connection's ring buffer and the application.
 *
 * A connection's rx and tx rings are plain byte arrays of any size in the
 * shared region; positions wrap modulo the size.  These helpers copy a run
 * of bytes that may wrap around the end of the ring to or from an iovec
 * array, starting `skip` bytes into the iovecs (so that a blocking call can
 * continue where its previous copy stopped).  Pure functions: no locks, no
 * state; the caller has checked that the run lies within the readable or
 * writable part of the ring.
 */
#include <string.h>

#include "libtas/core/core.h"

uint32_t tc_ring_advance(uint32_t pos, uint32_t n, uint32_t size)
{
    uint64_t p = (uint64_t)pos + n;
    return (uint32_t)(p >= size ? p % size : p);
}

size_t tc_iov_len(const struct iovec *iov, int iovcnt)
{
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len > SIZE_MAX / 2 - total)
            return SIZE_MAX / 2;
        total += iov[i].iov_len;
    }
    return total;
}

/* Walk the iovecs from byte `skip` and the ring from `pos`, copying up to len
 * bytes in the direction given by to_ring. */
static size_t ring_copy(uint8_t *base, uint32_t size, uint32_t pos,
                        const struct iovec *iov, int iovcnt, size_t skip, size_t len,
                        bool to_ring)
{
    size_t done = 0;
    int i = 0;

    if (size == 0)
        return 0;
    if (len > size)
        len = size;
    if (pos >= size)
        pos %= size;
    while (i < iovcnt && skip >= iov[i].iov_len) {
        skip -= iov[i].iov_len;
        i++;
    }
    while (done < len && i < iovcnt) {
        uint8_t *u = (uint8_t *)iov[i].iov_base + skip;
        size_t n = iov[i].iov_len - skip;
        if (n > len - done)
            n = len - done;
        if (n > size - pos)
            n = size - pos; /* up to the end of the ring; wrap next round */
        if (to_ring)
            memcpy(base + pos, u, n);
        else
            memcpy(u, base + pos, n);
        done += n;
        pos = tc_ring_advance(pos, (uint32_t)n, size);
        skip += n;
        if (skip == iov[i].iov_len) {
            skip = 0;
            i++;
        }
    }
    return done;
}

size_t tc_ring_read(const uint8_t *base, uint32_t size, uint32_t pos,
                    const struct iovec *iov, int iovcnt, size_t skip, size_t len)
{
    if (iov == NULL) /* MSG_TRUNC: discard */
        return len < size ? len : size;
    return ring_copy((uint8_t *)base, size, pos, iov, iovcnt, skip, len, false);
}

size_t tc_ring_write(uint8_t *base, uint32_t size, uint32_t pos, const struct iovec *iov,
                     int iovcnt, size_t skip, size_t len)
{
    return ring_copy(base, size, pos, iov, iovcnt, skip, len, true);
}
