/* Fuzz target: what the kernel sends on NETLINK_XFRM (service/xfrm/
 * xfrm-msg-parse.c), read as a receive buffer of netlink messages the way
 * the driver walks one (mnl_cb_run: each message whole inside the buffer).
 *
 * Every message goes through all three parsers: SAs (dump or GETSA reply),
 * policies (dump or GETPOLICY reply) and events (ACQUIRE, EXPIRE, POLEXPIRE,
 * MAPPING).  Beyond not crashing, each input checks that
 *   - a parsed SA's keys lie inside the message they were read from;
 *   - addresses come out with a family of AF_INET, AF_INET6 or none;
 *   - an event's kind is the one its message type names;
 *   - an SA or policy the parser accepted and the request checks accept
 *     survives being built into a request and parsed again: the fields that
 *     name it are kept, and building a second time gives the same bytes
 *     (the builders and parsers agree on one form). */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xfrm-msg.h"
#include "fuzz.h"

static gboolean
family_ok (const XfrmAddr *addr)
{
  return addr->family == 0 || addr->family == AF_INET || addr->family == AF_INET6;
}

static gboolean
inside (const struct nlmsghdr *nlh, const guint8 *p, gsize len)
{
  const guint8 *start = (const guint8 *) nlh;

  return p >= start && len <= nlh->nlmsg_len && (gsize) (p - start) <= nlh->nlmsg_len - len;
}

/* Build, parse, build again: the two requests are the same bytes. */
static void
sa_roundtrip (const XfrmSaInfo *first)
{
  g_autoptr (XfrmMsgBuf) buf1 = xfrm_msg_buf_new ();
  g_autoptr (XfrmMsgBuf) buf2 = xfrm_msg_buf_new ();
  struct nlmsghdr *m1, *m2;
  XfrmSaInfo again;

  if (!xfrm_msg_check_sa (&first->sa, NULL))
    return;
  m1 = xfrm_msg_new_sa (buf1, &first->sa, FALSE, NULL);
  CHECK (m1 != NULL);
  CHECK (xfrm_msg_parse_sa (m1, &again, NULL));
  CHECK (again.sa.spi == first->sa.spi && again.sa.reqid == first->sa.reqid);
  CHECK (again.sa.mode == first->sa.mode && again.sa.encr == first->sa.encr);
  CHECK (again.sa.integ == first->sa.integ && again.sa.esn == first->sa.esn);
  CHECK (xfrm_addr_equal (&again.sa.src, &first->sa.src));
  CHECK (xfrm_addr_equal (&again.sa.dst, &first->sa.dst));
  CHECK (again.sa.encr_key_len == first->sa.encr_key_len);
  CHECK (memcmp (again.sa.encr_key, first->sa.encr_key, first->sa.encr_key_len) == 0);
  CHECK (xfrm_msg_check_sa (&again.sa, NULL));
  m2 = xfrm_msg_new_sa (buf2, &again.sa, FALSE, NULL);
  CHECK (m2 != NULL && m2->nlmsg_len == m1->nlmsg_len);
  CHECK (memcmp (m1, m2, m1->nlmsg_len) == 0);
}

static void
check_sa (const struct nlmsghdr *nlh)
{
  XfrmSaInfo info;
  g_autoptr (GError) error = NULL;

  if (!xfrm_msg_parse_sa (nlh, &info, &error))
    {
      CHECK (error != NULL);
      return;
    }
  CHECK (family_ok (&info.sa.src) && family_ok (&info.sa.dst));
  CHECK (info.sa.encr_key == NULL || inside (nlh, info.sa.encr_key, info.sa.encr_key_len));
  CHECK (info.sa.integ_key == NULL || inside (nlh, info.sa.integ_key, info.sa.integ_key_len));
  g_free (xfrm_selector_to_string (&info.sa.sel));
  sa_roundtrip (&info);
}

static void
policy_roundtrip (const XfrmPolicy *first)
{
  g_autoptr (XfrmMsgBuf) buf1 = xfrm_msg_buf_new ();
  g_autoptr (XfrmMsgBuf) buf2 = xfrm_msg_buf_new ();
  struct nlmsghdr *m1, *m2;
  XfrmPolicy again;

  if (!xfrm_msg_check_policy (first, NULL))
    return;
  m1 = xfrm_msg_new_policy (buf1, first, FALSE, NULL);
  CHECK (m1 != NULL);
  CHECK (xfrm_msg_parse_policy (m1, &again, NULL));
  CHECK (xfrm_selector_equal (&again.sel, &first->sel));
  CHECK (again.dir == first->dir && again.priority == first->priority);
  CHECK (again.index == first->index && again.action == first->action);
  CHECK (again.reqid == first->reqid && again.mode == first->mode);
  CHECK (xfrm_msg_check_policy (&again, NULL));
  m2 = xfrm_msg_new_policy (buf2, &again, FALSE, NULL);
  CHECK (m2 != NULL && m2->nlmsg_len == m1->nlmsg_len);
  CHECK (memcmp (m1, m2, m1->nlmsg_len) == 0);
}

static void
check_policy (const struct nlmsghdr *nlh)
{
  XfrmPolicy policy;
  g_autoptr (GError) error = NULL;

  if (!xfrm_msg_parse_policy (nlh, &policy, &error))
    {
      CHECK (error != NULL);
      return;
    }
  CHECK (policy.action == XFRM_ACTION_PASS || policy.action == XFRM_ACTION_DROP
         || policy.action == XFRM_ACTION_IPSEC);
  CHECK (family_ok (&policy.tmpl_src) && family_ok (&policy.tmpl_dst));
  g_free (xfrm_selector_to_string (&policy.sel));
  policy_roundtrip (&policy);
}

static void
check_event (const struct nlmsghdr *nlh)
{
  static const struct
  {
    guint16 type;
    XfrmEventKind kind;
  } kinds[] = {
    { XFRM_MSG_ACQUIRE, XFRM_EVENT_ACQUIRE },
    { XFRM_MSG_EXPIRE, XFRM_EVENT_EXPIRE },
    { XFRM_MSG_POLEXPIRE, XFRM_EVENT_POLEXPIRE },
    { XFRM_MSG_MAPPING, XFRM_EVENT_MAPPING },
  };
  XfrmEvent event;
  g_autoptr (GError) error = NULL;
  gboolean known = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    known = known || kinds[i].type == nlh->nlmsg_type;
  if (!xfrm_msg_parse_event (nlh, &event, &error))
    {
      /* Other types are not events, without an error; ours fail with one. */
      CHECK (known == (error != NULL));
      return;
    }
  CHECK (known);
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    if (kinds[i].type == nlh->nlmsg_type)
      CHECK (event.kind == kinds[i].kind);
  CHECK (family_ok (&event.src) && family_ok (&event.dst));
  CHECK (family_ok (&event.old_addr) && family_ok (&event.new_addr));
  if (event.kind == XFRM_EVENT_ACQUIRE)
    CHECK (event.sel.src.family == AF_INET || event.sel.src.family == AF_INET6);
  g_free (xfrm_selector_to_string (&event.sel));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* A heap copy of exactly @size bytes: aligned as a receive buffer is, and
   * any read past the end is a sanitizer report. */
  g_autofree guint8 *copy = g_memdup2 (data, size);
  const struct nlmsghdr *nlh = (const struct nlmsghdr *) copy;
  int len = (int) MIN (size, (size_t) XFRM_MSG_BUF_SIZE);

  if (copy == NULL)
    return 0;
  /* mnl_nlmsg_ok () reads nlmsg_len as an int, so a length of 2^31 or more
   * passes it; the kernel never sends one, and the driver trusts its
   * framing, so only lengths inside the buffer go on. */
  for (; mnl_nlmsg_ok (nlh, len) && nlh->nlmsg_len <= (guint32) len;
       nlh = mnl_nlmsg_next (nlh, &len))
    {
      check_sa (nlh);
      check_policy (nlh);
      check_event (nlh);
    }
  return 0;
}
