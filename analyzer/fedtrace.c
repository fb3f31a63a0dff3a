/*
 * fedtrace.c - the program's entry point; the program is fedtrace_main().
 */
#include "main.h"

int main(int argc, char **argv)
{
    return fedtrace_main(argc, argv);
}
