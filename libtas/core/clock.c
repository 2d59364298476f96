/* clock.c - the monotonic clock and deadlines in it, for every wait of the
 * library (blocking calls, SO_RCVTIMEO/SO_SNDTIMEO, poll and epoll
 * timeouts, the attach and fork hand-overs).  It calls nothing of libtas.
 */
#include "libtas/core/core.h"

void tc_now(struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
}

void tc_deadline_ms(struct timespec *d, long ms)
{
    tc_now(d);
    d->tv_sec += ms / 1000;
    d->tv_nsec += (ms % 1000) * 1000000L;
    if (d->tv_nsec >= 1000000000L) {
        d->tv_sec++;
        d->tv_nsec -= 1000000000L;
    }
}

bool tc_time_left(const struct timespec *deadline, struct timespec *left)
{
    struct timespec now;
    tc_now(&now);
    left->tv_sec = deadline->tv_sec - now.tv_sec;
    left->tv_nsec = deadline->tv_nsec - now.tv_nsec;
    if (left->tv_nsec < 0) {
        left->tv_sec--;
        left->tv_nsec += 1000000000L;
    }
    return left->tv_sec > 0 || (left->tv_sec == 0 && left->tv_nsec > 0);
}

int tc_ms_left(const struct timespec *deadline)
{
    struct timespec left;
    if (deadline == NULL)
        return -1;
    if (!tc_time_left(deadline, &left))
        return 0;
    long ms = left.tv_sec * 1000 + (left.tv_nsec + 999999) / 1000000;
    return ms > 1000000000L ? 1000000000 : (int)ms;
}
