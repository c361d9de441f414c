/* The real XfrmDriver: requests on one NETLINK_XFRM socket, answered at
 * once by the kernel, and multicast events on a second one watched from the
 * GLib main loop.  Framing and attributes only through libmnl.
 *
 * Buffers that may hold keys (requests that add SAs, replies to GETSA) are
 * wiped after each exchange, and NETLINK_CAP_ACK keeps the kernel from
 * echoing a refused request (keys and all) back in its error. */
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <linux/netlink.h>
#include <string.h>

#include "xfrm-msg.h"

/* Policies per direction that can carry our tag at once: the index bits
 * below the tag, less the three of the direction. */
#define XFRM_INDEX_SERIAL_MASK ((~XFRM_INDEX_TAG_MASK) >> 3)

typedef struct
{
  XfrmDriver parent;
  struct mnl_socket *nl;
  struct mnl_socket *events;
  guint32 portid;
  guint32 seq;
  guint32 serial; /* of the next policy index we hand out */
  guint event_source;
  gboolean probing; /* inside the ESP probe: no second one */
  XfrmMsgBuf *tx, *rx;
  /* Events have their own: an event callback may make requests while the
   * rest of the batch still waits to be parsed. */
  XfrmMsgBuf *events_rx;
} XfrmNetlink;

typedef int (*XfrmReplyFunc) (const struct nlmsghdr *nlh, gpointer data, GError **error);

/* One request and its answer. */
typedef struct
{
  XfrmReplyFunc reply;
  gpointer data;
  int error;     /* errno from the kernel's NLMSG_ERROR, 0 if none */
  char *extack;  /* the kernel's own words, if it gave any */
  GError *parse; /* a reply we could not read */
} XfrmTalk;

/* ---- Exchanges ---- */

static int
xfrm_nl_extack_cb (const struct nlattr *attr, void *data)
{
  XfrmTalk *talk = data;
  if (mnl_attr_get_type (attr) == NLMSGERR_ATTR_MSG
      && mnl_attr_validate (attr, MNL_TYPE_NUL_STRING) == 0 && talk->extack == NULL)
    talk->extack = g_strdup (mnl_attr_get_str (attr));
  return MNL_CB_OK;
}

static int
xfrm_nl_error_cb (const struct nlmsghdr *nlh, void *data)
{
  XfrmTalk *talk = data;
  const struct nlmsgerr *err = mnl_nlmsg_get_payload (nlh);
  if (mnl_nlmsg_get_payload_len (nlh) < sizeof *err)
    {
      talk->error = EBADMSG;
      return MNL_CB_ERROR;
    }
  if (err->error == 0)
    return MNL_CB_STOP;
  talk->error = -err->error;
  if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
    {
      gsize offset = sizeof *err;
      if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
        offset += err->msg.nlmsg_len - sizeof err->msg;
      if (offset < mnl_nlmsg_get_payload_len (nlh))
        mnl_attr_parse (nlh, offset, xfrm_nl_extack_cb, talk);
    }
  return MNL_CB_ERROR;
}

/* A reply we cannot read spoils the answer but not the socket: the rest of
 * a dump is still read (and skipped), so the next request starts clean. */
static int
xfrm_nl_data_cb (const struct nlmsghdr *nlh, void *data)
{
  XfrmTalk *talk = data;
  if (talk->reply != NULL && talk->parse == NULL)
    talk->reply (nlh, talk->data, &talk->parse);
  return MNL_CB_OK;
}

static int
xfrm_nl_done_cb (const struct nlmsghdr *nlh, void *data)
{
  return MNL_CB_STOP;
}

static gboolean
xfrm_nl_receive (XfrmNetlink *self, guint32 seq, XfrmTalk *talk)
{
  /* With a table of our own, libmnl's defaults are off: DONE ends a dump. */
  mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
    [NLMSG_ERROR] = xfrm_nl_error_cb,
    [NLMSG_DONE] = xfrm_nl_done_cb,
  };
  int ret;
  do
    {
      ssize_t n = mnl_socket_recvfrom (self->nl, self->rx->data, self->rx->size);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          talk->error = errno;
          return FALSE;
        }
      ret = mnl_cb_run2 (self->rx->data, n, seq, self->portid, xfrm_nl_data_cb, talk, ctl,
                         G_N_ELEMENTS (ctl));
    }
  while (ret > MNL_CB_STOP);
  if (ret < 0 && talk->error == 0 && talk->parse == NULL)
    talk->error = errno ? errno : EPROTO;
  return ret == MNL_CB_STOP && talk->parse == NULL;
}

static XfrmError
xfrm_nl_error_code (int err)
{
  switch (err)
    {
    case EEXIST:
      return XFRM_ERROR_EXISTS;
    case ENOENT:
    case ESRCH:
      return XFRM_ERROR_NOT_FOUND;
    case EPERM:
    case EACCES:
      return XFRM_ERROR_PERMISSION;
    case EPROTONOSUPPORT:
      return XFRM_ERROR_NO_ESP;
    case ENOSYS:
      return XFRM_ERROR_NO_ALG;
    default:
      return XFRM_ERROR_FAILED;
    }
}

static void
xfrm_nl_set_error (XfrmTalk *talk, const char *what, GError **error)
{
  XfrmError code = xfrm_nl_error_code (talk->error);
  if (talk->parse != NULL)
    g_propagate_error (error, g_steal_pointer (&talk->parse));
  else if (code == XFRM_ERROR_NO_ESP)
    g_set_error (error, XFRM_ERROR, code, "%s: the kernel lacks ESP support (esp4/esp6 modules)",
                 what);
  else
    g_set_error (error, XFRM_ERROR, code, "%s: %s%s%s", what, g_strerror (talk->error),
                 talk->extack ? ": " : "", talk->extack ? talk->extack : "");
}

/* Sends @nlh and reads the answer, each reply message through @reply. */
static gboolean
xfrm_nl_talk (XfrmNetlink *self, struct nlmsghdr *nlh, XfrmReplyFunc reply, gpointer data,
              const char *what, GError **error)
{
  XfrmTalk talk = { reply, data, 0, NULL, NULL };
  guint32 seq = ++self->seq;
  gsize len = nlh->nlmsg_len;
  gboolean ok;
  /* NLM_F_DUMP is two bits, one of them shared with NLM_F_EXCL. */
  if ((nlh->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
    nlh->nlmsg_flags |= NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  ok = mnl_socket_sendto (self->nl, nlh, len) == (ssize_t) len;
  if (!ok)
    talk.error = errno;
  explicit_bzero (self->tx->data, len);
  ok = ok && xfrm_nl_receive (self, seq, &talk);
  explicit_bzero (self->rx->data, self->rx->size);
  if (!ok)
    xfrm_nl_set_error (&talk, what, error);
  g_free (talk.extack);
  g_clear_error (&talk.parse);
  return ok;
}

/* ---- SAs ---- */

static int
xfrm_nl_sa_reply (const struct nlmsghdr *nlh, gpointer data, GError **error)
{
  XfrmSaInfo *info = data;
  if (!xfrm_msg_parse_sa (nlh, info, error))
    return MNL_CB_ERROR;
  /* The keys point into the receive buffer, which is about to be wiped. */
  info->sa.encr_key = info->sa.integ_key = NULL;
  info->sa.encr_key_len = info->sa.integ_key_len = 0;
  return MNL_CB_OK;
}

static gboolean
xfrm_nl_get_sa (XfrmDriver *driver, const XfrmAddr *dst, guint32 spi, XfrmSaInfo *info,
                GError **error)
{
  XfrmNetlink *self = (XfrmNetlink *) driver;
  struct nlmsghdr *nlh = xfrm_msg_sa_id (self->tx, XFRM_MSG_GETSA, dst, spi);
  g_autofree char *what = g_strdup_printf ("reading SA 0x%08x", spi);
  memset (info, 0, sizeof *info);
  return xfrm_nl_talk (self, nlh, xfrm_nl_sa_reply, info, what, error);
}

/* NOT_FOUND passes through, so that callers can tell "gone" from "foreign". */
static gboolean
xfrm_nl_check_sa_ours (XfrmDriver *driver, const XfrmAddr *dst, guint32 spi, GError **error)
{
  XfrmSaInfo info;
  if (!xfrm_nl_get_sa (driver, dst, spi, &info, error))
    return FALSE;
  if (xfrm_reqid_is_ours (info.sa.reqid))
    return TRUE;
  g_set_error (error, XFRM_ERROR, XFRM_ERROR_NOT_OURS, "SA 0x%08x belongs to another program", spi);
  return FALSE;
}

static int
xfrm_nl_spi_reply (const struct nlmsghdr *nlh, gpointer data, GError **error)
{
  XfrmSaInfo info;
  int ret = xfrm_nl_sa_reply (nlh, &info, error);
  if (ret == MNL_CB_OK)
    *(guint32 *) data = info.sa.spi;
  return ret;
}

static gboolean
xfrm_nl_alloc_spi (XfrmDriver *driver, const XfrmAddr *src, const XfrmAddr *dst, XfrmMode mode,
                   guint32 reqid, guint32 min, guint32 max, guint32 *spi, GError **error)
{
  XfrmNetlink *self = (XfrmNetlink *) driver;
  struct nlmsghdr *nlh = xfrm_msg_alloc_spi (self->tx, src, dst, mode, reqid, min, max);
  *spi = 0;
  return xfrm_nl_talk (self, nlh, xfrm_nl_spi_reply, spi, "allocating an SPI", error);
}

/* An unknown algorithm may mean a missing crypto module or no ESP at all;
 * the probe tells which, so the user sees the cause that matters. */
static void
xfrm_nl_explain_no_alg (XfrmNetlink *self, const char *what, GError **error)
{
  g_autoptr (GError) probe = NULL;
  if (self->probing || !g_error_matches (*error, XFRM_ERROR, XFRM_ERROR_NO_ALG))
    return;
  self->probing = TRUE;
  if (!xfrm_driver_probe_esp (&self->parent, &probe)
      && g_error_matches (probe, XFRM_ERROR, XFRM_ERROR_NO_ESP))
    {
      g_clear_error (error);
      g_set_error (error, XFRM_ERROR, XFRM_ERROR_NO_ESP,
                   "%s: the kernel lacks ESP support (esp4/esp6 modules)", what);
    }
  self->probing = FALSE;
}

static gboolean
xfrm_nl_add_sa (XfrmDriver *driver, const XfrmSa *sa, gboolean update, GError **error)
{
  XfrmNetlink *self = (XfrmNetlink *) driver;
  g_autofree char *what = g_strdup_printf ("%s SA 0x%08x", update ? "updating" : "adding", sa->spi);
  if (update && !xfrm_nl_check_sa_ours (driver, &sa->dst, sa->spi, error))
    return FALSE;
  struct nlmsghdr *nlh = xfrm_msg_new_sa (self->tx, sa, update, error);
  if (nlh == NULL)
    return FALSE;
  if (xfrm_nl_talk (self, nlh, NULL, NULL, what, error))
    return TRUE;
  xfrm_nl_explain_no_alg (self, what, error);
  return FALSE;
}

static gboolean
xfrm_nl_delete_sa (XfrmDriver *driver, const XfrmAddr *dst, guint32 spi, GError **error)
{
  XfrmNetlink *self = (XfrmNetlink *) driver;
  g_autofree char *what = g_strdup_printf ("deleting SA 0x%08x", spi);
  if (!xfrm_nl_check_sa_ours (driver, dst, spi, error))
    return FALSE;
  struct nlmsghdr *nlh = xfrm_msg_sa_id (self->tx, XFRM_MSG_DELSA, dst, spi);
  return xfrm_nl_talk (self, nlh, NULL, NULL, what, error);
}

static int
xfrm_nl_sa_list_reply (const struct nlmsghdr *nlh, gpointer data, GError **error)
{
  XfrmSaInfo info;
  if (xfrm_nl_sa_reply (nlh, &info, error) != MNL_CB_OK)
    return MNL_CB_ERROR;
  if (xfrm_reqid_is_ours (info.sa.reqid))
    g_array_append_val ((GArray *) data, info);
  return MNL_CB_OK;
}

static GArray *
xfrm_nl_list_sas (XfrmDriver *driver, GError **error)
{
  XfrmNetlink *self = (XfrmNetlink *) driver;
  g_autoptr (GArray) sas = g_array_new (FALSE, TRUE, sizeof (XfrmSaInfo));
  struct nlmsghdr *nlh = xfrm_msg_dump (self->tx, XFRM_MSG_GETSA);
  if (!xfrm_nl_talk (self, nlh, xfrm_nl_sa_list_reply, sas, "listing SAs", error))
    return NULL;
  return g_steal_pointer (&sas);
}

/* ---- Policies ---- */

static int
xfrm_nl_policy_reply (const struct nlmsghdr *nlh, gpointer data, GError **error)
{
  return xfrm_msg_parse_policy (nlh, data, error) ? MNL_CB_OK : MNL_CB_ERROR;
}

static gboolean
xfrm_nl_get_policy (XfrmNetlink *self, const XfrmSelector *sel, XfrmDir dir, XfrmPolicy *policy,
                    GError **error)
{
  struct nlmsghdr *nlh = xfrm_msg_policy_id (self->tx, XFRM_MSG_GETPOLICY, sel, dir, 0);
  return xfrm_nl_talk (self, nlh, xfrm_nl_policy_reply, policy, "reading a policy", error);
}

/* The index of our policy with that selector, 0 if there is none, or
 * NOT_OURS. */
static gboolean
xfrm_nl_find_policy (XfrmNetlink *self, const XfrmSelector *sel, XfrmDir dir, guint32 *index,
                     GError **error)
{
  g_autoptr (GError) local = NULL;
  XfrmPolicy found;
  *index = 0;
  if (!xfrm_nl_get_policy (self, sel, dir, &found, &local))
    {
      if (g_error_matches (local, XFRM_ERROR, XFRM_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (xfrm_index_is_ours (found.index))
    {
      *index = found.index;
      return TRUE;
    }
  g_autofree char *text = xfrm_selector_to_string (sel);
  g_set_error (error, XFRM_ERROR, XFRM_ERROR_NOT_OURS,
               "the policy %s (dir %u) belongs to another program", text, dir);
  return FALSE;
}

static guint32
xfrm_nl_next_index (XfrmNetlink *self, XfrmDir dir)
{
  self->serial = (self->serial + 1) & XFRM_INDEX_SERIAL_MASK;
  return XFRM_INDEX_TAG | (self->serial << 3) | dir;
}

static gboolean
xfrm_nl_delete_index (XfrmNetlink *self, XfrmDir dir, guint32 index, GError **error)
{
  struct nlmsghdr *nlh = xfrm_msg_policy_id (self->tx, XFRM_MSG_DELPOLICY, NULL, dir, index);
  return xfrm_nl_talk (self, nlh, NULL, NULL, "deleting a policy", error);
}

/* The kernel keeps the index we ask for unless another policy holds it; then
 * it quietly picks its own.  So look, and try again on a clash. */
static gboolean
xfrm_nl_put_policy (XfrmNetlink *self, XfrmPolicy *policy, gboolean update, GError **error)
{
  for (guint tries = 0; tries < 8; tries++)
    {
      XfrmPolicy got;
      struct nlmsghdr *nlh = xfrm_msg_new_policy (self->tx, policy, update, error);
      if (nlh == NULL || !xfrm_nl_talk (self, nlh, NULL, NULL, "adding a policy", error)
          || !xfrm_nl_get_policy (self, &policy->sel, policy->dir, &got, error))
        return FALSE;
      if (got.index == policy->index)
        return TRUE;
      if (!xfrm_nl_delete_index (self, policy->dir, got.index, error))
        return FALSE;
      policy->index = xfrm_nl_next_index (self, policy->dir);
      update = FALSE;
    }
  g_set_error (error, XFRM_ERROR, XFRM_ERROR_FAILED, "no free policy index for ipsecd");
  return FALSE;
}

static gboolean
xfrm_nl_add_policy (XfrmDriver *driver, XfrmPolicy *policy, gboolean update, GError **error)
{
  XfrmNetlink *self = (XfrmNetlink *) driver;
  guint32 index = 0;
  if (update && !xfrm_nl_find_policy (self, &policy->sel, policy->dir, &index, error))
    return FALSE;
  policy->index = index ? index : xfrm_nl_next_index (self, policy->dir);
  return xfrm_nl_put_policy (self, policy, update && index != 0, error);
}

static gboolean
xfrm_nl_delete_policy (XfrmDriver *driver, const XfrmSelector *sel, XfrmDir dir, GError **error)
{
  XfrmNetlink *self = (XfrmNetlink *) driver;
  guint32 index;
  if (!xfrm_nl_find_policy (self, sel, dir, &index, error))
    return FALSE;
  if (index == 0)
    {
      g_autofree char *text = xfrm_selector_to_string (sel);
      g_set_error (error, XFRM_ERROR, XFRM_ERROR_NOT_FOUND, "no policy %s (dir %u)", text, dir);
      return FALSE;
    }
  return xfrm_nl_delete_index (self, dir, index, error);
}

static int
xfrm_nl_policy_list_reply (const struct nlmsghdr *nlh, gpointer data, GError **error)
{
  XfrmPolicy policy;
  if (!xfrm_msg_parse_policy (nlh, &policy, error))
    return MNL_CB_ERROR;
  if (xfrm_index_is_ours (policy.index))
    g_array_append_val ((GArray *) data, policy);
  return MNL_CB_OK;
}

static GArray *
xfrm_nl_list_policies (XfrmDriver *driver, GError **error)
{
  XfrmNetlink *self = (XfrmNetlink *) driver;
  g_autoptr (GArray) policies = g_array_new (FALSE, TRUE, sizeof (XfrmPolicy));
  struct nlmsghdr *nlh = xfrm_msg_dump (self->tx, XFRM_MSG_GETPOLICY);
  if (!xfrm_nl_talk (self, nlh, xfrm_nl_policy_list_reply, policies, "listing policies", error))
    return NULL;
  return g_steal_pointer (&policies);
}

/* ---- Events ---- */

/* Events about other programs' objects (another IKE daemon's trap policy,
 * its SAs) are theirs to handle. */
static gboolean
xfrm_nl_event_is_ours (const XfrmEvent *event)
{
  switch (event->kind)
    {
    case XFRM_EVENT_ACQUIRE:
    case XFRM_EVENT_POLEXPIRE:
      return xfrm_index_is_ours (event->policy_index);
    default:
      return xfrm_reqid_is_ours (event->reqid);
    }
}

static int
xfrm_nl_event_cb (const struct nlmsghdr *nlh, void *data)
{
  XfrmDriver *driver = data;
  g_autoptr (GError) error = NULL;
  XfrmEvent event;
  if (!xfrm_msg_parse_event (nlh, &event, &error))
    {
      if (error != NULL)
        g_warning ("XFRM event ignored: %s", error->message);
      return MNL_CB_OK;
    }
  if (xfrm_nl_event_is_ours (&event))
    driver->event_func (&event, driver->event_data);
  return MNL_CB_OK;
}

static gboolean
xfrm_nl_events_ready (int fd, GIOCondition condition, gpointer data)
{
  XfrmNetlink *self = data;
  for (;;)
    {
      ssize_t n = recv (fd, self->events_rx->data, self->events_rx->size, MSG_DONTWAIT);
      if (n < 0 && errno == ENOBUFS)
        {
          g_warning ("XFRM events were lost: the kernel sent more than we could read");
          continue;
        }
      if (n <= 0)
        break;
      mnl_cb_run (self->events_rx->data, n, 0, 0, xfrm_nl_event_cb, self);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
xfrm_nl_subscribe (XfrmDriver *driver, GError **error)
{
  XfrmNetlink *self = (XfrmNetlink *) driver;
  unsigned int groups = 1u << (XFRMNLGRP_ACQUIRE - 1) /* POLEXPIRE comes with EXPIRE */
                        | 1u << (XFRMNLGRP_EXPIRE - 1) | 1u << (XFRMNLGRP_MAPPING - 1);
  int rcvbuf = 1 << 20;
  self->events = mnl_socket_open2 (NETLINK_XFRM, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (self->events == NULL || mnl_socket_bind (self->events, groups, MNL_SOCKET_AUTOPID) < 0)
    {
      int saved = errno;
      g_set_error (error, XFRM_ERROR, xfrm_nl_error_code (saved),
                   "cannot subscribe to XFRM events: %s", g_strerror (saved));
      return FALSE;
    }
  setsockopt (mnl_socket_get_fd (self->events), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  self->event_source
      = g_unix_fd_add (mnl_socket_get_fd (self->events), G_IO_IN, xfrm_nl_events_ready, self);
  return TRUE;
}

/* ---- Life ---- */

static void
xfrm_nl_free (XfrmDriver *driver)
{
  XfrmNetlink *self = (XfrmNetlink *) driver;
  g_clear_handle_id (&self->event_source, g_source_remove);
  if (self->events != NULL)
    mnl_socket_close (self->events);
  if (self->nl != NULL)
    mnl_socket_close (self->nl);
  xfrm_msg_buf_free (self->tx);
  xfrm_msg_buf_free (self->rx);
  xfrm_msg_buf_free (self->events_rx);
  g_free (self);
}

static const XfrmDriverClass xfrm_netlink_class = {
  .name = "netlink",
  .free = xfrm_nl_free,
  .alloc_spi = xfrm_nl_alloc_spi,
  .add_sa = xfrm_nl_add_sa,
  .delete_sa = xfrm_nl_delete_sa,
  .get_sa = xfrm_nl_get_sa,
  .list_sas = xfrm_nl_list_sas,
  .add_policy = xfrm_nl_add_policy,
  .delete_policy = xfrm_nl_delete_policy,
  .list_policies = xfrm_nl_list_policies,
  .subscribe = xfrm_nl_subscribe,
};

XfrmDriver *
xfrm_netlink_new (GError **error)
{
  g_autoptr (XfrmDriver) driver = NULL;
  XfrmNetlink *self = g_new0 (XfrmNetlink, 1);
  int one = 1;
  self->parent.klass = &xfrm_netlink_class;
  driver = &self->parent;
  self->tx = xfrm_msg_buf_new ();
  self->rx = xfrm_msg_buf_new ();
  self->events_rx = xfrm_msg_buf_new ();
  /* A random start keeps a restarted daemon off its leftovers' indexes. */
  self->serial = g_random_int () & XFRM_INDEX_SERIAL_MASK;
  self->nl = mnl_socket_open2 (NETLINK_XFRM, SOCK_CLOEXEC);
  if (self->nl == NULL || mnl_socket_bind (self->nl, 0, MNL_SOCKET_AUTOPID) < 0)
    {
      int saved = errno;
      g_set_error (error, XFRM_ERROR, xfrm_nl_error_code (saved),
                   "cannot open the kernel's XFRM netlink socket: %s", g_strerror (saved));
      return NULL;
    }
  self->portid = mnl_socket_get_portid (self->nl);
  mnl_socket_setsockopt (self->nl, NETLINK_EXT_ACK, &one, sizeof one);
  mnl_socket_setsockopt (self->nl, NETLINK_CAP_ACK, &one, sizeof one);
  return g_steal_pointer (&driver);
}
