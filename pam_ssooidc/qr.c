/* qr.c - placeholder until the QR issue lands: no QR, text only. */
#include "qr.h"

#include <stddef.h>

char *qr_render(const char *text)
{
    (void)text;
    return NULL;
}
