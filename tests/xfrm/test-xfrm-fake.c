/* The in-memory driver that policy/ tests stand on: calls recorded (keys
 * never), kernel-like answers, "ours" filtering, injected failures and
 * events; and the interface's own operations (flush, probe) on top of it. */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "ike-types.h"
#include "xfrm-fake.h"

static const guint8 key20[20] = { 0xde, 0xad, 0xbe, 0xef };

static XfrmAddr
addr (const char *text)
{
  XfrmAddr a;
  g_assert_true (xfrm_addr_parse (text, &a, NULL));
  return a;
}

static XfrmSa
sa_to (const char *dst, guint32 spi, guint32 reqid)
{
  XfrmSa sa = { .spi = spi,
                .mode = XFRM_TRANSPORT,
                .reqid = reqid,
                .encr = IKE_ENCR_AES_GCM_16,
                .key_bits = 128,
                .encr_key = key20,
                .encr_key_len = 20 };
  sa.src = addr ("192.0.2.1");
  sa.dst = addr (dst);
  return sa;
}

static XfrmPolicy
policy (const char *src, const char *dst, XfrmAction action, guint32 prio)
{
  XfrmPolicy p = { .dir = XFRM_DIR_OUT, .action = action, .priority = prio };
  g_assert_true (xfrm_prefix_parse (src, &p.sel.src, &p.sel.src_prefix, NULL));
  g_assert_true (xfrm_prefix_parse (dst, &p.sel.dst, &p.sel.dst_prefix, NULL));
  if (action == XFRM_ACTION_TRAP || action == XFRM_ACTION_IPSEC)
    p.reqid = XFRM_REQID_MIN + 1;
  return p;
}

static void
test_records_calls (void)
{
  g_autoptr (XfrmDriver) fake = xfrm_fake_new ();
  g_autoptr (GError) error = NULL;
  XfrmSa sa = sa_to ("192.0.2.2", 0x1001, XFRM_REQID_MIN);
  XfrmPolicy trap = policy ("192.0.2.0/24", "0.0.0.0/0", XFRM_ACTION_TRAP, 500);

  g_assert_cmpstr (xfrm_driver_get_name (fake), ==, "fake");
  g_assert_true (xfrm_driver_add_sa (fake, &sa, &error));
  g_assert_true (xfrm_driver_add_policy (fake, &trap, &error));
  g_assert_no_error (error);
  g_assert_true (xfrm_index_is_ours (trap.index));
  g_assert_cmpuint (trap.index & 7, ==, XFRM_DIR_OUT);

  g_assert_cmpuint (xfrm_fake_get_n_calls (fake), ==, 2);
  const XfrmFakeCall *call = xfrm_fake_get_call (fake, 0);
  g_assert_cmpint (call->op, ==, XFRM_FAKE_ADD_SA);
  g_assert_true (call->ok);
  g_assert_cmphex (call->sa.spi, ==, 0x1001);
  g_assert_null (call->sa.encr_key); /* never a key in a recording */
  g_assert_cmpuint (call->sa.encr_key_len, ==, 20);
  g_assert_cmpstr (call->text, ==,
                   "add_sa 192.0.2.1->192.0.2.2 spi 0x00001001 reqid 0x5ec00000 transport "
                   "encr 20/128 integ 0 esn 0 keys 20/0 window 0 encap 0/0");
  call = xfrm_fake_get_call (fake, 1);
  g_assert_cmpint (call->op, ==, XFRM_FAKE_ADD_POLICY);
  g_assert_cmphex (call->policy.index, ==, trap.index);
  g_autofree char *all = xfrm_fake_describe (fake);
  g_assert_nonnull (strstr (all, "add_policy out 192.0.2.0/24[0] -> 0.0.0.0/0[0] proto 0 trap "
                                 "prio 500"));
  xfrm_fake_clear_calls (fake);
  g_assert_cmpuint (xfrm_fake_get_n_calls (fake), ==, 0);
}

static void
test_refusals_are_not_calls (void)
{
  g_autoptr (XfrmDriver) fake = xfrm_fake_new ();
  g_autoptr (GError) error = NULL;
  XfrmSa sa = sa_to ("192.0.2.2", 0x1001, 7); /* not our reqid */
  g_assert_false (xfrm_driver_add_sa (fake, &sa, &error));
  g_assert_error (error, XFRM_ERROR, XFRM_ERROR_INVALID);
  g_assert_cmpuint (xfrm_fake_get_n_calls (fake), ==, 0);
}

static void
test_sa_lifecycle (void)
{
  g_autoptr (XfrmDriver) fake = xfrm_fake_new ();
  GError *error = NULL;
  XfrmAddr src = addr ("192.0.2.2"), dst = addr ("192.0.2.1");
  guint32 spi1, spi2;
  XfrmSaInfo info;
  XfrmSaStats stats = { .bytes = 1500, .packets = 3 };

  g_assert_true (xfrm_driver_alloc_spi (fake, &src, &dst, XFRM_TRANSPORT, XFRM_REQID_MIN, 0x100,
                                        0x101, &spi1, &error));
  g_assert_true (xfrm_driver_alloc_spi (fake, &src, &dst, XFRM_TRANSPORT, XFRM_REQID_MIN, 0x100,
                                        0x101, &spi2, &error));
  g_assert_cmpuint (spi1, >=, 0x100);
  g_assert_cmpuint (spi2, <=, 0x101);
  g_assert_cmpuint (spi1, !=, spi2);

  /* The larval SA of alloc_spi is replaced by update, not add. */
  XfrmSa sa = sa_to ("192.0.2.1", spi1, XFRM_REQID_MIN);
  sa.src = src;
  g_assert_false (xfrm_driver_add_sa (fake, &sa, &error));
  g_assert_error (error, XFRM_ERROR, XFRM_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_true (xfrm_driver_update_sa (fake, &sa, &error));
  g_assert_true (xfrm_fake_set_stats (fake, &dst, spi1, &stats));
  g_assert_true (xfrm_driver_get_sa (fake, &dst, spi1, &info, &error));
  g_assert_cmpuint (info.stats.bytes, ==, 1500);
  g_assert_cmpuint (info.sa.encr, ==, IKE_ENCR_AES_GCM_16);
  g_assert_true (xfrm_driver_delete_sa (fake, &dst, spi1, &error));
  g_assert_false (xfrm_driver_delete_sa (fake, &dst, spi1, &error));
  g_assert_error (error, XFRM_ERROR, XFRM_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpuint (xfrm_fake_count (fake, XFRM_FAKE_DELETE_SA), ==, 2);
}

static void
test_ours_only (void)
{
  g_autoptr (XfrmDriver) fake = xfrm_fake_new ();
  GError *error = NULL;
  XfrmPolicy foreign = policy ("10.0.0.0/8", "10.1.0.0/16", XFRM_ACTION_DROP, 1);
  XfrmPolicy ours = policy ("10.0.0.0/8", "10.2.0.0/16", XFRM_ACTION_PASS, 2);
  XfrmPolicy trap = policy ("0.0.0.0/0", "198.51.100.0/24", XFRM_ACTION_TRAP, 3);
  XfrmSa foreign_sa = sa_to ("192.0.2.9", 0x9999, 1);
  XfrmSa our_sa = sa_to ("192.0.2.9", 0x8888, XFRM_REQID_MIN);
  guint n_policies, n_sas;

  foreign.index = 8 | XFRM_DIR_OUT;
  xfrm_fake_add_foreign_policy (fake, &foreign);
  xfrm_fake_add_foreign_sa (fake, &foreign_sa);
  g_assert_true (xfrm_driver_add_policy (fake, &ours, &error));
  g_assert_true (xfrm_driver_add_policy (fake, &trap, &error));
  g_assert_true (xfrm_driver_add_sa (fake, &our_sa, &error));

  /* A clash with a foreign policy, in every form. */
  XfrmPolicy clash = foreign;
  g_assert_false (xfrm_driver_add_policy (fake, &clash, &error));
  g_assert_error (error, XFRM_ERROR, XFRM_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (xfrm_driver_update_policy (fake, &clash, &error));
  g_assert_error (error, XFRM_ERROR, XFRM_ERROR_NOT_OURS);
  g_clear_error (&error);
  g_assert_false (xfrm_driver_delete_policy (fake, &foreign.sel, XFRM_DIR_OUT, &error));
  g_assert_error (error, XFRM_ERROR, XFRM_ERROR_NOT_OURS);
  g_clear_error (&error);
  g_assert_false (xfrm_driver_delete_sa (fake, &foreign_sa.dst, 0x9999, &error));
  g_assert_error (error, XFRM_ERROR, XFRM_ERROR_NOT_OURS);
  g_clear_error (&error);

  g_autoptr (GArray) listed = xfrm_driver_list_policies (fake, &error);
  g_assert_cmpuint (listed->len, ==, 2);
  for (guint i = 0; i < listed->len; i++)
    g_assert_cmpint (g_array_index (listed, XfrmPolicy, i).action, !=, XFRM_ACTION_TRAP);

  /* An update keeps the index; flush leaves the foreign objects alone. */
  guint32 index = ours.index;
  ours.action = XFRM_ACTION_DROP;
  g_assert_true (xfrm_driver_update_policy (fake, &ours, &error));
  g_assert_cmphex (ours.index, ==, index);
  g_assert_true (xfrm_driver_flush (fake, &n_policies, &n_sas, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_policies, ==, 2);
  g_assert_cmpuint (n_sas, ==, 1);
  g_assert_cmpuint (xfrm_fake_n_policies (fake), ==, 1);
  g_assert_cmpuint (xfrm_fake_n_sas (fake), ==, 1);
}

static void
test_failures (void)
{
  g_autoptr (XfrmDriver) fake = xfrm_fake_new ();
  GError *error = NULL;
  XfrmSa sa = sa_to ("192.0.2.2", 0x1001, XFRM_REQID_MIN);
  XfrmPolicy pass = policy ("10.0.0.0/8", "10.2.0.0/16", XFRM_ACTION_PASS, 2);

  g_assert_true (xfrm_driver_probe_esp (fake, &error));
  g_assert_cmpuint (xfrm_fake_n_sas (fake), ==, 0); /* the probe cleans up */

  xfrm_fake_set_no_esp (fake, TRUE);
  g_assert_false (xfrm_driver_probe_esp (fake, &error));
  g_assert_error (error, XFRM_ERROR, XFRM_ERROR_NO_ESP);
  g_assert_nonnull (strstr (error->message, "lacks ESP support"));
  g_clear_error (&error);
  g_assert_false (xfrm_driver_add_sa (fake, &sa, &error));
  g_assert_error (error, XFRM_ERROR, XFRM_ERROR_NO_ESP);
  g_clear_error (&error);
  xfrm_fake_set_no_esp (fake, FALSE);

  xfrm_fake_fail_next (fake, XFRM_FAKE_ADD_POLICY, XFRM_ERROR_PERMISSION);
  g_assert_false (xfrm_driver_add_policy (fake, &pass, &error));
  g_assert_error (error, XFRM_ERROR, XFRM_ERROR_PERMISSION);
  g_clear_error (&error);
  g_assert_false (xfrm_fake_get_call (fake, xfrm_fake_get_n_calls (fake) - 1)->ok);
  g_assert_true (xfrm_driver_add_policy (fake, &pass, &error)); /* only the next one */
  xfrm_fake_fail_next (fake, XFRM_FAKE_LIST_POLICIES, XFRM_ERROR_FAILED);
  g_assert_false (xfrm_driver_flush (fake, NULL, NULL, &error));
  g_assert_error (error, XFRM_ERROR, XFRM_ERROR_FAILED);
  g_clear_error (&error);
}

static void
count_event (const XfrmEvent *event, gpointer data)
{
  GArray *seen = data;
  g_array_append_val (seen, *event);
}

static void
test_events (void)
{
  g_autoptr (XfrmDriver) fake = xfrm_fake_new ();
  g_autoptr (GArray) seen = g_array_new (FALSE, TRUE, sizeof (XfrmEvent));
  XfrmEvent acquire = { .kind = XFRM_EVENT_ACQUIRE, .policy_index = XFRM_INDEX_TAG | 9 };
  XfrmEvent foreign = { .kind = XFRM_EVENT_EXPIRE, .reqid = 1, .spi = 5 };
  XfrmEvent expire = { .kind = XFRM_EVENT_EXPIRE, .reqid = XFRM_REQID_MIN, .spi = 6, .hard = TRUE };

  g_assert_false (xfrm_fake_emit (fake, &acquire)); /* nobody listens yet */
  g_assert_true (xfrm_driver_set_event_func (fake, count_event, seen, NULL));
  g_assert_true (xfrm_fake_emit (fake, &acquire));
  g_assert_false (xfrm_fake_emit (fake, &foreign));
  g_assert_true (xfrm_fake_emit (fake, &expire));
  g_assert_cmpuint (seen->len, ==, 2);
  g_assert_cmpint (g_array_index (seen, XfrmEvent, 0).kind, ==, XFRM_EVENT_ACQUIRE);
  g_assert_cmpuint (g_array_index (seen, XfrmEvent, 1).spi, ==, 6);
  g_assert_cmpuint (xfrm_fake_count (fake, XFRM_FAKE_SUBSCRIBE), ==, 1);
}

static void
test_addresses (void)
{
  XfrmAddr a;
  guint8 len;
  GError *error = NULL;
  struct sockaddr_storage ss = { 0 };
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;

  g_assert_true (xfrm_prefix_parse ("2001:db8::/32", &a, &len, &error));
  g_assert_cmpint (a.family, ==, AF_INET6);
  g_assert_cmpuint (len, ==, 32);
  g_assert_true (xfrm_prefix_parse ("192.0.2.7", &a, &len, &error));
  g_assert_cmpuint (len, ==, 32);
  g_assert_false (xfrm_prefix_parse ("192.0.2.0/33", &a, &len, &error));
  g_assert_error (error, XFRM_ERROR, XFRM_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (xfrm_addr_parse ("example.org", &a, &error));
  g_clear_error (&error);

  sin6->sin6_family = AF_INET6;
  sin6->sin6_addr.s6_addr[15] = 1;
  xfrm_addr_from_sockaddr (&ss, &a);
  g_autofree char *text = xfrm_addr_to_string (&a);
  g_assert_cmpstr (text, ==, "::1");
  g_assert_false (xfrm_addr_equal (&a, &(XfrmAddr){ .family = AF_INET }));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/xfrm/fake/records-calls", test_records_calls);
  g_test_add_func ("/xfrm/fake/refusals-are-not-calls", test_refusals_are_not_calls);
  g_test_add_func ("/xfrm/fake/sa-lifecycle", test_sa_lifecycle);
  g_test_add_func ("/xfrm/fake/ours-only", test_ours_only);
  g_test_add_func ("/xfrm/fake/failures", test_failures);
  g_test_add_func ("/xfrm/fake/events", test_events);
  g_test_add_func ("/xfrm/fake/addresses", test_addresses);
  return g_test_run ();
}
