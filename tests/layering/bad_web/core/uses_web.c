/* Fixture for layering_selftest_*: the include check must reject this file. */
#include "core/session.h"
  #  include   "web/server.h"
