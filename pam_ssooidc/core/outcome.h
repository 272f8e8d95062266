/* outcome.h - the one syslog line per login, in a form a SIEM can parse
 * and nobody outside can forge:
 *
 *   login result=PAM_AUTH_ERR user=alice rhost=203.0.113.7 service=sshd
 *     approver=bob seconds=12.3 retries=0 request_id=0f1e-...
 *     reason=approved%20by%20bob%2C%20who%20does%20not%20map%20...
 *
 * Keys are fixed and always present, in this order, each as key=value with
 * one space between pairs and no quotes. result, seconds, retries and
 * request_id are single tokens of a safe charset (a request id that is not
 * [A-Za-z0-9-] becomes "-"). Every other value is percent-encoded (RFC
 * 3986, upper-case hex): every byte but letters, digits and "-._~:/@" is
 * written %XX, after the log sanitizer removed control, invisible and
 * direction-changing characters. So no value - a user name, an rhost, an
 * approver, a server's error text - holds a space, quote, backslash, '=' or
 * '%' of its own: even a parser that only splits on spaces (or quotes) and
 * the first '=' reads exactly these keys, and a search for "result=..."
 * or "user=..." only ever matches the real field. "-" stands for a value
 * that is not known (a value that is "-" itself is written %2D).
 * docs/options-operation.md. */
#ifndef SSO_OUTCOME_H
#define SSO_OUTCOME_H

#include <stddef.h>

struct outcome {
    int pam_code;
    const char *user, *rhost, *service, *approver, *request_id, *reason;
    double seconds;
    long retries;
};

#define OUTCOME_LINE_MAX 8192

/* Format the line (without syslog's prefix) into buf; returns buf. */
const char *outcome_format(char *buf, size_t len, const struct outcome *o);

/* The symbolic name of a PAM return code ("PAM_AUTH_ERR"). */
const char *outcome_code_name(int pam_code);

#endif
