/* outcome.h - the one syslog line per login, in a form a SIEM can parse
 * and nobody outside can forge:
 *
 *   login result=PAM_AUTH_ERR user="alice" rhost="203.0.113.7" service="sshd"
 *     approver="bob" seconds=12.3 retries=0 request_id=0f1e-... reason="..."
 *
 * Keys are fixed and always present, in this order. result, seconds, retries
 * and request_id are single tokens of a safe charset (a request id that is
 * not [A-Za-z0-9-] becomes "-"); every other value is quoted, with '"' and
 * '\' escaped by a backslash and every non-ASCII byte written as \xNN,
 * after the log sanitizer removed control, invisible and direction-changing
 * characters. So no value - a user name,
 * an rhost, a server's error text - can end its field early or add a key.
 * "-" stands for a value that is not known. docs/options-operation.md. */
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
