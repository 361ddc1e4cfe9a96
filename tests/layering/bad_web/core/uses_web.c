/* Fixture for layering_selftest_* (tests/layering.sh): the include check must reject this file. */
#include "core/session.h"
  #  include   "web/server.h"
