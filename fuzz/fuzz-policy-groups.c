/* Fuzz target: OE group files (policy/), which an administrator or an
 * import from libreswan hands us.
 *
 * Byte 0 chooses the group (modulo the five), the rest is the file.  Beyond
 * not crashing, every input checks: each entry is a clean prefix (no host
 * bits, a length the family allows, ports only with a protocol); every line
 * is either an entry, a problem, or blank/comment; and the footprint applied
 * twice to the fake driver changes nothing the second time. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "xfrm-fake.h"
#include "fuzz.h"

static void
check_entry (const PolicyEntry *e)
{
  guint bits = xfrm_addr_host_bits (e->net.family);
  CHECK (e->net.family == AF_INET || e->net.family == AF_INET6);
  CHECK (e->prefix_len <= bits);
  for (guint i = e->prefix_len; i < bits; i++)
    CHECK ((e->net.bytes[i / 8] & (0x80u >> (i % 8))) == 0);
  CHECK (e->proto != 0 || (e->sport == 0 && e->dport == 0));
  CHECK (e->line >= 1);
}

static void
check_apply_twice (const PolicyGroups *groups)
{
  g_autoptr (PolicySet) set = policy_set_from_groups (groups);
  g_autoptr (XfrmDriver) fake = xfrm_fake_new ();
  PolicyApplyStats stats;

  CHECK (policy_apply (set, fake, &stats, NULL));
  CHECK (stats.added == policy_set_get_n_policies (set));
  CHECK (policy_apply (set, fake, &stats, NULL));
  CHECK (stats.added + stats.updated + stats.removed == 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (PolicyGroups) groups = policy_groups_new ();
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  guint lines = 0, n;

  if (size < 1)
    return 0;
  for (size_t i = 1; i < size; i++)
    lines += data[i] == '\n';
  n = policy_groups_parse (groups, data[0] % POLICY_N_GROUPS, "fuzz", (const char *) data + 1,
                           size - 1, problems);
  CHECK (n == policy_groups_get_n_entries (groups));
  CHECK (n + problems->len <= lines + 1);
  for (guint i = 0; i < n; i++)
    check_entry (policy_groups_get_entry (groups, i));
  check_apply_twice (groups);
  return 0;
}
