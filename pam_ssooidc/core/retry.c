/* retry.c - see retry.h. */
#include "core/retry.h"

#include <curl/curl.h>
#include <stdint.h>
#include <sys/random.h>

bool retry_transport_transient(int curl_code)
{
    switch ((CURLcode)curl_code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR: /* a handshake cut short; a bad certificate is 60 */
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default: /* TLS verification, oversized answers, out of memory, cancel... */
        return false;
    }
}

bool retry_status_transient(long status)
{
    return status == 429 || (status >= 500 && status <= 599);
}

double retry_delay(long attempt, double retry_after, double random01)
{
    double ceiling = RETRY_BACKOFF_BASE;
    for (long i = 0; i < attempt && ceiling < RETRY_BACKOFF_CAP; i++)
        ceiling *= 2;
    if (ceiling > RETRY_BACKOFF_CAP)
        ceiling = RETRY_BACKOFF_CAP;
    if (!(random01 >= 0) || random01 >= 1) /* also NaN */
        random01 = 0;
    double wait = random01 * ceiling;
    /* The service's own Retry-After wins even above the cap; the caller's
     * deadline still bounds it. */
    return retry_after > wait ? retry_after : wait;
}

double retry_after_seconds(const char *value)
{
    if (!value || !value[0])
        return -1;
    long n = 0;
    for (const char *p = value; *p; p++) {
        if (*p < '0' || *p > '9' || n > 86400)
            return -1;
        n = n * 10 + (*p - '0');
    }
    return (double)n;
}

double retry_random01(void)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
        return 0.5; /* no entropy yet: a fixed middle, still bounded */
    return (double)(r >> 11) / 9007199254740992.0; /* 53 random bits */
}
