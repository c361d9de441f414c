/* Fuzz target: one whole IKE datagram.  Whatever parses must build, and
 * what it builds must parse and build again to the same bytes and the same
 * description: the codec's round-trip property on hostile input.  An SK
 * body is also fed to the inner-chain parser, as if it were plaintext. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike-msg.h"
#include "fuzz.h"

static void
fuzz_inner (IkeSlice body, guint8 first)
{
  g_autoptr (GBytes) plain = g_bytes_new_static (body.data, body.len);
  g_autoptr (IkeInner) inner = ike_inner_parse (plain, first, NULL, NULL);
  g_autoptr (GBytes) again = NULL;

  if (inner == NULL)
    return;
  again = ike_inner_to_bytes (inner, NULL, NULL);
  CHECK (again != NULL);
}

static void
check_fault (const IkeMsgFault *fault, size_t size)
{
  CHECK (fault->offset <= size);
  CHECK (fault->notify == 0 || fault->notify == IKE_N_INVALID_SYNTAX
         || fault->notify == IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD
         || fault->notify == IKE_N_INVALID_MAJOR_VERSION);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) bytes = g_bytes_new_static (data, size);
  IkeMsgFault fault = { 0 };
  g_autoptr (IkeMsg) msg = NULL;
  g_autoptr (GBytes) again = NULL;
  g_autoptr (IkeMsg) reparsed = NULL;
  g_autoptr (GBytes) twice = NULL;
  g_autofree char *text = NULL;
  g_autofree char *text_again = NULL;

  /* A critical from a g_return_if_fail is a bug the fuzzer must report. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  msg = ike_msg_parse (bytes, &fault, NULL);
  if (msg == NULL)
    {
      check_fault (&fault, size);
      return 0;
    }
  text = ike_msg_describe (msg);
  again = ike_msg_to_bytes (msg, NULL);
  CHECK (again != NULL);
  reparsed = ike_msg_parse (again, NULL, NULL);
  CHECK (reparsed != NULL);
  twice = ike_msg_to_bytes (reparsed, NULL);
  CHECK (twice != NULL && g_bytes_equal (again, twice));
  text_again = ike_msg_describe (reparsed);
  CHECK (strcmp (text, text_again) == 0);
  if (ike_msg_get_sk (msg) != NULL)
    fuzz_inner (ike_msg_get_sk (msg)->body, ike_msg_get_sk (msg)->first_inner);
  return 0;
}
