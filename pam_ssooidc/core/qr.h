/* qr.h - the verification URL as a terminal QR code (libqrencode, optional). */
#ifndef SSO_QR_H
#define SSO_QR_H

#include <stdbool.h>

/* Render text as a QR code in Unicode half blocks, at most 80 columns wide,
 * with a quiet zone. Returns a malloc'd NUL-terminated multi-line string, or
 * NULL when it cannot be encoded to fit (the caller then shows text only). */
char *qr_render(const char *text);

/* Whether this build can draw QR codes at all (false when built without
 * libqrencode; qr_render then always returns NULL). */
bool qr_available(void);

#endif
