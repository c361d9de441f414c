/* Fuzz target: a decrypted SK content, as the crypto code hands it to the
 * codec.  The first byte is the SK's Next Payload (the first inner payload
 * type), the rest is the chain.  Whatever parses must build, and build again
 * to the same bytes and the same description. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike-msg.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) chain = NULL;
  IkeMsgFault fault = { 0 };
  g_autoptr (IkeInner) inner = NULL;
  g_autoptr (GBytes) again = NULL;
  g_autoptr (IkeInner) reparsed = NULL;
  g_autoptr (GBytes) twice = NULL;
  g_autofree char *text = NULL;
  g_autofree char *text_again = NULL;
  guint8 first = 0, first_again = 0;

  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  if (size < 1)
    return 0;
  chain = g_bytes_new_static (data + 1, size - 1);
  inner = ike_inner_parse (chain, data[0], &fault, NULL);
  if (inner == NULL)
    {
      CHECK (fault.offset <= size - 1);
      CHECK (fault.notify == IKE_N_INVALID_SYNTAX
             || fault.notify == IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD);
      return 0;
    }
  text = ike_inner_describe (inner);
  again = ike_inner_to_bytes (inner, &first, NULL);
  CHECK (again != NULL);
  CHECK (ike_inner_get_n_payloads (inner) == 0 || first == data[0]);
  reparsed = ike_inner_parse (again, first, NULL, NULL);
  CHECK (reparsed != NULL);
  twice = ike_inner_to_bytes (reparsed, &first_again, NULL);
  CHECK (twice != NULL && g_bytes_equal (again, twice) && first == first_again);
  text_again = ike_inner_describe (reparsed);
  CHECK (strcmp (text, text_again) == 0);
  return 0;
}
