/* What every fuzz target shares: libFuzzer's entry point, and CHECK for the
 * invariants a target asserts beyond "does not crash" (an abort is what
 * libFuzzer reports as a finding). */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
  do                                                                                               \
    {                                                                                              \
      if (!(cond))                                                                                 \
        {                                                                                          \
          g_printerr ("%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);                 \
          abort ();                                                                                \
        }                                                                                          \
    }                                                                                              \
  while (0)
