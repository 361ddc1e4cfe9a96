/* Placeholder entry point; the real one lands with core/session. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("torrentd %s\n", TD_VERSION);
        return 0;
    }
    return 0;
}
