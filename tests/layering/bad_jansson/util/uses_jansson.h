/* Fixture for layering_selftest_*: the include check must reject this file. */
#include <jansson.h>
