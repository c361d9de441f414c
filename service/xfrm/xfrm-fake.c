/* The in-memory XfrmDriver (xfrm-fake.h).  Keys never enter it: a recorded
 * SA keeps only the key lengths, so a test log can never hold a secret. */
#include "config.h"

#include <string.h>

#include "xfrm-fake.h"

typedef struct
{
  XfrmDriver parent;
  GArray *calls;    /* XfrmFakeCall */
  GArray *sas;      /* XfrmSaInfo, keys stripped */
  GArray *policies; /* XfrmPolicy */
  XfrmError fail[XFRM_FAKE_N_OPS];
  gboolean fail_set[XFRM_FAKE_N_OPS];
  gboolean no_esp;
  gboolean subscribed;
  guint32 serial;
  guint32 next_spi;
} XfrmFake;

static const char *const xfrm_fake_op_names[XFRM_FAKE_N_OPS] = {
  "alloc_spi",  "add_sa",        "update_sa",     "delete_sa",     "get_sa",    "list_sas",
  "add_policy", "update_policy", "delete_policy", "list_policies", "subscribe",
};

static XfrmFake *
xfrm_fake (XfrmDriver *driver)
{
  g_assert (driver->klass->free != NULL && g_str_equal (driver->klass->name, "fake"));
  return (XfrmFake *) driver;
}

static void
xfrm_fake_call_clear (gpointer data)
{
  XfrmFakeCall *call = data;
  g_free (call->text);
}

static XfrmFakeCall *
xfrm_fake_record (XfrmFake *self, XfrmFakeOp op, char *text)
{
  XfrmFakeCall call = { .op = op, .ok = TRUE };
  call.text = g_strdup_printf ("%s%s%s", xfrm_fake_op_names[op], text ? " " : "", text ? text : "");
  g_free (text);
  g_array_append_val (self->calls, call);
  return &g_array_index (self->calls, XfrmFakeCall, self->calls->len - 1);
}

/* An injected failure, recorded on the call. */
static gboolean
xfrm_fake_injected (XfrmFake *self, XfrmFakeCall *call, GError **error)
{
  if (!self->fail_set[call->op])
    return FALSE;
  self->fail_set[call->op] = FALSE;
  call->ok = FALSE;
  g_set_error (error, XFRM_ERROR, self->fail[call->op], "injected failure of %s",
               xfrm_fake_op_names[call->op]);
  return TRUE;
}

static gboolean
xfrm_fake_fail_call (XfrmFakeCall *call, XfrmError code, const char *message, GError **error)
{
  call->ok = FALSE;
  g_set_error_literal (error, XFRM_ERROR, code, message);
  return FALSE;
}

/* ---- SAs ---- */

static gint
xfrm_fake_find_sa (XfrmFake *self, const XfrmAddr *dst, guint32 spi)
{
  for (guint i = 0; i < self->sas->len; i++)
    {
      const XfrmSa *sa = &g_array_index (self->sas, XfrmSaInfo, i).sa;
      if (sa->spi == spi && xfrm_addr_equal (&sa->dst, dst))
        return i;
    }
  return -1;
}

static char *
xfrm_fake_sa_text (const XfrmSa *sa)
{
  g_autofree char *src = xfrm_addr_to_string (&sa->src);
  g_autofree char *dst = xfrm_addr_to_string (&sa->dst);
  return g_strdup_printf ("%s->%s spi 0x%08x reqid 0x%08x %s encr %u/%u integ %u esn %d "
                          "keys %zu/%zu window %u encap %u/%u",
                          src, dst, sa->spi, sa->reqid,
                          sa->mode == XFRM_TUNNEL ? "tunnel" : "transport", sa->encr, sa->key_bits,
                          sa->integ, sa->esn, sa->encr_key_len, sa->integ_key_len,
                          sa->replay_window, sa->encap_sport, sa->encap_dport);
}

static XfrmSa
xfrm_fake_strip (const XfrmSa *sa)
{
  XfrmSa copy = *sa;
  copy.encr_key = copy.integ_key = NULL;
  return copy;
}

static gboolean
xfrm_fake_alloc_spi (XfrmDriver *driver, const XfrmAddr *src, const XfrmAddr *dst, XfrmMode mode,
                     guint32 reqid, guint32 min, guint32 max, guint32 *spi, GError **error)
{
  XfrmFake *self = xfrm_fake (driver);
  XfrmFakeCall *call = xfrm_fake_record (self, XFRM_FAKE_ALLOC_SPI, NULL);
  XfrmSaInfo larval = { 0 };
  call->src = *src;
  call->dst = *dst;
  if (xfrm_fake_injected (self, call, error))
    return FALSE;
  do
    self->next_spi = self->next_spi < min || self->next_spi >= max ? min : self->next_spi + 1;
  while (xfrm_fake_find_sa (self, dst, self->next_spi) >= 0);
  larval.sa
      = (XfrmSa){ .src = *src, .dst = *dst, .spi = self->next_spi, .mode = mode, .reqid = reqid };
  g_array_append_val (self->sas, larval);
  *spi = call->spi = self->next_spi;
  g_free (call->text);
  call->text = g_strdup_printf ("alloc_spi spi 0x%08x reqid 0x%08x", *spi, reqid);
  return TRUE;
}

static gboolean
xfrm_fake_add_sa (XfrmDriver *driver, const XfrmSa *sa, gboolean update, GError **error)
{
  XfrmFake *self = xfrm_fake (driver);
  XfrmFakeCall *call = xfrm_fake_record (self, update ? XFRM_FAKE_UPDATE_SA : XFRM_FAKE_ADD_SA,
                                         xfrm_fake_sa_text (sa));
  gint i = xfrm_fake_find_sa (self, &sa->dst, sa->spi);
  XfrmSaInfo info = { .sa = xfrm_fake_strip (sa) };
  call->sa = info.sa;
  if (xfrm_fake_injected (self, call, error))
    return FALSE;
  if (self->no_esp)
    return xfrm_fake_fail_call (call, XFRM_ERROR_NO_ESP,
                                "adding an SA: the kernel lacks ESP support (esp4/esp6 modules)",
                                error);
  if (!update && i >= 0)
    return xfrm_fake_fail_call (call, XFRM_ERROR_EXISTS, "the SA exists", error);
  if (update && i < 0)
    return xfrm_fake_fail_call (call, XFRM_ERROR_NOT_FOUND, "no such SA", error);
  if (update && !xfrm_reqid_is_ours (g_array_index (self->sas, XfrmSaInfo, i).sa.reqid))
    return xfrm_fake_fail_call (call, XFRM_ERROR_NOT_OURS, "a foreign SA", error);
  if (update)
    g_array_index (self->sas, XfrmSaInfo, i) = info;
  else
    g_array_append_val (self->sas, info);
  return TRUE;
}

static gint
xfrm_fake_find_our_sa (XfrmFake *self, XfrmFakeCall *call, const XfrmAddr *dst, guint32 spi,
                       GError **error)
{
  gint i = xfrm_fake_find_sa (self, dst, spi);
  call->dst = *dst;
  call->spi = spi;
  if (xfrm_fake_injected (self, call, error))
    return -1;
  if (i < 0)
    return xfrm_fake_fail_call (call, XFRM_ERROR_NOT_FOUND, "no such SA", error), -1;
  return i;
}

static gboolean
xfrm_fake_delete_sa (XfrmDriver *driver, const XfrmAddr *dst, guint32 spi, GError **error)
{
  XfrmFake *self = xfrm_fake (driver);
  g_autofree char *addr = xfrm_addr_to_string (dst);
  XfrmFakeCall *call
      = xfrm_fake_record (self, XFRM_FAKE_DELETE_SA, g_strdup_printf ("%s spi 0x%08x", addr, spi));
  gint i = xfrm_fake_find_our_sa (self, call, dst, spi, error);
  if (i < 0)
    return FALSE;
  if (!xfrm_reqid_is_ours (g_array_index (self->sas, XfrmSaInfo, i).sa.reqid))
    return xfrm_fake_fail_call (call, XFRM_ERROR_NOT_OURS, "a foreign SA", error);
  g_array_remove_index (self->sas, i);
  return TRUE;
}

static gboolean
xfrm_fake_get_sa (XfrmDriver *driver, const XfrmAddr *dst, guint32 spi, XfrmSaInfo *info,
                  GError **error)
{
  XfrmFake *self = xfrm_fake (driver);
  g_autofree char *addr = xfrm_addr_to_string (dst);
  XfrmFakeCall *call
      = xfrm_fake_record (self, XFRM_FAKE_GET_SA, g_strdup_printf ("%s spi 0x%08x", addr, spi));
  gint i = xfrm_fake_find_our_sa (self, call, dst, spi, error);
  if (i < 0)
    return FALSE;
  *info = g_array_index (self->sas, XfrmSaInfo, i);
  return TRUE;
}

static GArray *
xfrm_fake_list_sas (XfrmDriver *driver, GError **error)
{
  XfrmFake *self = xfrm_fake (driver);
  XfrmFakeCall *call = xfrm_fake_record (self, XFRM_FAKE_LIST_SAS, NULL);
  GArray *out = g_array_new (FALSE, TRUE, sizeof (XfrmSaInfo));
  if (xfrm_fake_injected (self, call, error))
    return g_array_unref (out), NULL;
  for (guint i = 0; i < self->sas->len; i++)
    if (xfrm_reqid_is_ours (g_array_index (self->sas, XfrmSaInfo, i).sa.reqid))
      g_array_append_val (out, g_array_index (self->sas, XfrmSaInfo, i));
  return out;
}

/* ---- Policies ---- */

static gint
xfrm_fake_find_policy (XfrmFake *self, const XfrmSelector *sel, XfrmDir dir)
{
  for (guint i = 0; i < self->policies->len; i++)
    {
      const XfrmPolicy *p = &g_array_index (self->policies, XfrmPolicy, i);
      if (p->dir == dir && xfrm_selector_equal (&p->sel, sel))
        return i;
    }
  return -1;
}

static char *
xfrm_fake_policy_text (const XfrmPolicy *policy)
{
  static const char *const dirs[] = { "in", "out", "fwd" };
  g_autofree char *sel = xfrm_selector_to_string (&policy->sel);
  return g_strdup_printf ("%s %s %s prio %u reqid 0x%08x", dirs[policy->dir % 3], sel,
                          xfrm_action_to_string (policy->action), policy->priority, policy->reqid);
}

static gboolean
xfrm_fake_add_policy (XfrmDriver *driver, XfrmPolicy *policy, gboolean update, GError **error)
{
  XfrmFake *self = xfrm_fake (driver);
  XfrmFakeCall *call
      = xfrm_fake_record (self, update ? XFRM_FAKE_UPDATE_POLICY : XFRM_FAKE_ADD_POLICY,
                          xfrm_fake_policy_text (policy));
  gint i = xfrm_fake_find_policy (self, &policy->sel, policy->dir);
  call->policy = *policy;
  if (xfrm_fake_injected (self, call, error))
    return FALSE;
  if (i >= 0 && !update)
    return xfrm_fake_fail_call (call, XFRM_ERROR_EXISTS, "the policy exists", error);
  if (i >= 0 && !xfrm_index_is_ours (g_array_index (self->policies, XfrmPolicy, i).index))
    return xfrm_fake_fail_call (call, XFRM_ERROR_NOT_OURS, "a foreign policy", error);
  if (i >= 0)
    policy->index = g_array_index (self->policies, XfrmPolicy, i).index;
  else
    policy->index = XFRM_INDEX_TAG | (++self->serial << 3) | policy->dir;
  call->policy.index = policy->index;
  if (i >= 0)
    g_array_index (self->policies, XfrmPolicy, i) = *policy;
  else
    g_array_append_val (self->policies, *policy);
  return TRUE;
}

static gboolean
xfrm_fake_delete_policy (XfrmDriver *driver, const XfrmSelector *sel, XfrmDir dir, GError **error)
{
  XfrmFake *self = xfrm_fake (driver);
  XfrmPolicy key = { .sel = *sel, .dir = dir };
  g_autofree char *text = xfrm_selector_to_string (sel);
  XfrmFakeCall *call
      = xfrm_fake_record (self, XFRM_FAKE_DELETE_POLICY, g_strdup_printf ("dir %u %s", dir, text));
  gint i = xfrm_fake_find_policy (self, sel, dir);
  call->policy = key;
  if (xfrm_fake_injected (self, call, error))
    return FALSE;
  if (i < 0)
    return xfrm_fake_fail_call (call, XFRM_ERROR_NOT_FOUND, "no such policy", error);
  if (!xfrm_index_is_ours (g_array_index (self->policies, XfrmPolicy, i).index))
    return xfrm_fake_fail_call (call, XFRM_ERROR_NOT_OURS, "a foreign policy", error);
  g_array_remove_index (self->policies, i);
  return TRUE;
}

static GArray *
xfrm_fake_list_policies (XfrmDriver *driver, GError **error)
{
  XfrmFake *self = xfrm_fake (driver);
  XfrmFakeCall *call = xfrm_fake_record (self, XFRM_FAKE_LIST_POLICIES, NULL);
  GArray *out = g_array_new (FALSE, TRUE, sizeof (XfrmPolicy));
  if (xfrm_fake_injected (self, call, error))
    return g_array_unref (out), NULL;
  for (guint i = 0; i < self->policies->len; i++)
    {
      XfrmPolicy p = g_array_index (self->policies, XfrmPolicy, i);
      if (!xfrm_index_is_ours (p.index))
        continue;
      /* As the kernel reads back: a trap is an ipsec policy without an SA. */
      if (p.action == XFRM_ACTION_TRAP)
        p.action = XFRM_ACTION_IPSEC;
      g_array_append_val (out, p);
    }
  return out;
}

static gboolean
xfrm_fake_subscribe (XfrmDriver *driver, GError **error)
{
  XfrmFake *self = xfrm_fake (driver);
  XfrmFakeCall *call = xfrm_fake_record (self, XFRM_FAKE_SUBSCRIBE, NULL);
  if (xfrm_fake_injected (self, call, error))
    return FALSE;
  self->subscribed = TRUE;
  return TRUE;
}

/* ---- Test controls ---- */

void
xfrm_fake_fail_next (XfrmDriver *driver, XfrmFakeOp op, XfrmError code)
{
  XfrmFake *self = xfrm_fake (driver);
  g_return_if_fail (op < XFRM_FAKE_N_OPS);
  self->fail[op] = code;
  self->fail_set[op] = TRUE;
}

void
xfrm_fake_set_no_esp (XfrmDriver *driver, gboolean no_esp)
{
  xfrm_fake (driver)->no_esp = no_esp;
}

void
xfrm_fake_add_foreign_policy (XfrmDriver *driver, const XfrmPolicy *policy)
{
  XfrmFake *self = xfrm_fake (driver);
  XfrmPolicy copy = *policy;
  g_return_if_fail (!xfrm_index_is_ours (policy->index));
  g_array_append_val (self->policies, copy);
}

void
xfrm_fake_add_foreign_sa (XfrmDriver *driver, const XfrmSa *sa)
{
  XfrmSaInfo info = { .sa = xfrm_fake_strip (sa) };
  g_return_if_fail (!xfrm_reqid_is_ours (sa->reqid));
  g_array_append_val (xfrm_fake (driver)->sas, info);
}

gboolean
xfrm_fake_set_stats (XfrmDriver *driver, const XfrmAddr *dst, guint32 spi, const XfrmSaStats *stats)
{
  XfrmFake *self = xfrm_fake (driver);
  gint i = xfrm_fake_find_sa (self, dst, spi);
  if (i < 0)
    return FALSE;
  g_array_index (self->sas, XfrmSaInfo, i).stats = *stats;
  return TRUE;
}

guint
xfrm_fake_n_policies (XfrmDriver *driver)
{
  return xfrm_fake (driver)->policies->len;
}

guint
xfrm_fake_n_sas (XfrmDriver *driver)
{
  return xfrm_fake (driver)->sas->len;
}

gboolean
xfrm_fake_emit (XfrmDriver *driver, const XfrmEvent *event)
{
  XfrmFake *self = xfrm_fake (driver);
  gboolean ours = event->kind == XFRM_EVENT_ACQUIRE || event->kind == XFRM_EVENT_POLEXPIRE
                      ? xfrm_index_is_ours (event->policy_index)
                      : xfrm_reqid_is_ours (event->reqid);
  if (!self->subscribed || driver->event_func == NULL || !ours)
    return FALSE;
  driver->event_func (event, driver->event_data);
  return TRUE;
}

guint
xfrm_fake_get_n_calls (XfrmDriver *driver)
{
  return xfrm_fake (driver)->calls->len;
}

const XfrmFakeCall *
xfrm_fake_get_call (XfrmDriver *driver, guint i)
{
  XfrmFake *self = xfrm_fake (driver);
  g_return_val_if_fail (i < self->calls->len, NULL);
  return &g_array_index (self->calls, XfrmFakeCall, i);
}

guint
xfrm_fake_count (XfrmDriver *driver, XfrmFakeOp op)
{
  XfrmFake *self = xfrm_fake (driver);
  guint n = 0;
  for (guint i = 0; i < self->calls->len; i++)
    n += g_array_index (self->calls, XfrmFakeCall, i).op == op;
  return n;
}

char *
xfrm_fake_describe (XfrmDriver *driver)
{
  XfrmFake *self = xfrm_fake (driver);
  GString *out = g_string_new (NULL);
  for (guint i = 0; i < self->calls->len; i++)
    g_string_append_printf (out, "%s\n", g_array_index (self->calls, XfrmFakeCall, i).text);
  return g_string_free (out, FALSE);
}

void
xfrm_fake_clear_calls (XfrmDriver *driver)
{
  g_array_set_size (xfrm_fake (driver)->calls, 0);
}

static void
xfrm_fake_free (XfrmDriver *driver)
{
  XfrmFake *self = (XfrmFake *) driver;
  g_array_unref (self->calls);
  g_array_unref (self->sas);
  g_array_unref (self->policies);
  g_free (self);
}

static const XfrmDriverClass xfrm_fake_class = {
  .name = "fake",
  .free = xfrm_fake_free,
  .alloc_spi = xfrm_fake_alloc_spi,
  .add_sa = xfrm_fake_add_sa,
  .delete_sa = xfrm_fake_delete_sa,
  .get_sa = xfrm_fake_get_sa,
  .list_sas = xfrm_fake_list_sas,
  .add_policy = xfrm_fake_add_policy,
  .delete_policy = xfrm_fake_delete_policy,
  .list_policies = xfrm_fake_list_policies,
  .subscribe = xfrm_fake_subscribe,
};

XfrmDriver *
xfrm_fake_new (void)
{
  XfrmFake *self = g_new0 (XfrmFake, 1);
  self->parent.klass = &xfrm_fake_class;
  self->calls = g_array_new (FALSE, TRUE, sizeof (XfrmFakeCall));
  g_array_set_clear_func (self->calls, xfrm_fake_call_clear);
  self->sas = g_array_new (FALSE, TRUE, sizeof (XfrmSaInfo));
  self->policies = g_array_new (FALSE, TRUE, sizeof (XfrmPolicy));
  return &self->parent;
}
