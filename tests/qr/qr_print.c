/* qr_print.c - test helper: print qr_render(argv[1]) to stdout.
 * Exit status: 0 printed, 3 qr_render returned NULL, 2 usage. */
#include <stdio.h>
#include <stdlib.h>

#include "core/qr.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s TEXT\n", argv[0]);
        return 2;
    }
    char *out = qr_render(argv[1]);
    if (!out)
        return 3;
    fputs(out, stdout);
    free(out);
    return 0;
}
