/* What an established IKE SA does on its own or when asked: a queue of
 * exchanges run one at a time (window 1) — Child SA create, Child rekey, IKE
 * rekey, Child delete — fed by the API, by the soft and hard lifetimes of the
 * IKE SA and its Child SAs, and by the kernel's EXPIRE events. */
#include "ike-engine-private.h"

#define TEMPORARY_FAILURE_MIN G_TIME_SPAN_SECOND /* retry after 1..5 s */
#define TEMPORARY_FAILURE_SPAN (4 * G_TIME_SPAN_SECOND)

gboolean
ike_task_pending (IkeSa *sa, IkeTaskKind kind, guint32 spi)
{
  if (sa->create != NULL && sa->create->kind == kind && sa->create->rekey_spi == spi)
    return TRUE;
  for (guint i = 0; i < sa->tasks->len; i++)
    {
      const IkeTask *task = &g_array_index (sa->tasks, IkeTask, i);

      if (task->kind == kind && task->spi == spi)
        return TRUE;
    }
  return FALSE;
}

void
ike_task_add (IkeSa *sa, IkeTaskKind kind, guint32 spi)
{
  IkeTask task = { kind, spi, 0 };

  /* Several new Child SAs may be asked for; anything else once. */
  if (kind != IKE_TASK_CREATE_CHILD && ike_task_pending (sa, kind, spi))
    return;
  /* Deletes go first: they free what the others might collide with. */
  if (kind == IKE_TASK_DELETE_CHILD)
    g_array_prepend_val (sa->tasks, task);
  else
    g_array_append_val (sa->tasks, task);
}

/* After TEMPORARY_FAILURE (§2.25): the same task again, a little later. */
void
ike_task_retry_later (IkeSa *sa, gint64 now, IkeTaskKind kind, guint32 spi)
{
  guint32 r = 0;
  IkeTask task = { kind, spi, now + TEMPORARY_FAILURE_MIN };

  if (ike_random_bytes ((guint8 *) &r, sizeof r, NULL))
    task.not_before += (gint64) (((guint64) r * TEMPORARY_FAILURE_SPAN) >> 32);
  g_array_append_val (sa->tasks, task);
}

static gboolean
start (IkeSa *sa, gint64 now, const IkeTask *task, GError **error)
{
  IkeChild *child;

  switch (task->kind)
    {
    case IKE_TASK_DELETE_CHILD:
      return ike_info_start_delete_child (sa, now, task->spi, error);
    case IKE_TASK_CREATE_CHILD:
      return ike_create_child_start (sa, now, task->kind, 0, error);
    case IKE_TASK_REKEY_CHILD:
      child = ike_child_find (sa, task->spi);
      /* Gone or already replaced (by the peer's rekey): nothing to do. */
      if (child == NULL || child->replaced_by != 0)
        return TRUE;
      return ike_create_child_start (sa, now, task->kind, task->spi, error);
    case IKE_TASK_REKEY_IKE:
      return ike_rekey_start (sa, now, error);
    }
  return TRUE;
}

static gint
next_ready (IkeSa *sa, gint64 now)
{
  for (guint i = 0; i < sa->tasks->len; i++)
    if (g_array_index (sa->tasks, IkeTask, i).not_before <= now)
      return (gint) i;
  return -1;
}

void
ike_task_kick (IkeSa *sa, gint64 now)
{
  gint i;

  while (sa->state == IKE_STATE_ESTABLISHED && sa->req == NULL && (i = next_ready (sa, now)) >= 0)
    {
      IkeTask task = g_array_index (sa->tasks, IkeTask, i);
      g_autoptr (GError) error = NULL;

      g_array_remove_index (sa->tasks, (guint) i);
      if (start (sa, now, &task, &error))
        continue;
      g_warning ("IKE SA %" G_GUINT64_FORMAT ": cannot start an exchange: %s", sa->handle,
                 error != NULL ? error->message : "?");
      if (task.kind == IKE_TASK_CREATE_CHILD || task.kind == IKE_TASK_REKEY_CHILD)
        ike_child_fail_event (sa, error != NULL ? error->message : "cannot start", 0, FALSE);
    }
}

gint64
ike_task_deadline (IkeSa *sa)
{
  gint64 due = G_MAXINT64;

  if (sa->state != IKE_STATE_ESTABLISHED)
    return due;
  due = MIN (sa->rekey_at, sa->expire_at);
  for (guint i = 0; i < sa->children->len; i++)
    {
      const IkeChild *child = &g_array_index (sa->children, IkeChild, i);

      due = MIN (due, child->expire_at);
      if (child->replaced_by == 0)
        due = MIN (due, child->rekey_at);
    }
  if (sa->req == NULL)
    for (guint i = 0; i < sa->tasks->len; i++)
      due = MIN (due, g_array_index (sa->tasks, IkeTask, i).not_before);
  return due;
}

void
ike_task_ike_lifetime (IkeSa *sa, gint64 now)
{
  IkeConfig *config = sa->config;

  sa->rekey_at = ike_config_rekey_time (config, now, config->ike_soft);
  sa->expire_at = config->ike_hard > 0 ? now + config->ike_hard : G_MAXINT64;
}

static void
child_lifetimes (IkeSa *sa, gint64 now)
{
  for (guint i = 0; i < sa->children->len;)
    {
      IkeChild *child = &g_array_index (sa->children, IkeChild, i);
      guint32 spi = child->spi_in;

      if (now >= child->expire_at)
        {
          ike_child_remove (sa, spi, "hard lifetime expired", FALSE);
          ike_task_add (sa, IKE_TASK_DELETE_CHILD, spi);
          continue;
        }
      if (child->replaced_by == 0 && now >= child->rekey_at)
        {
          child->rekey_at = G_MAXINT64;
          ike_task_add (sa, IKE_TASK_REKEY_CHILD, spi);
        }
      i++;
    }
}

void
ike_task_lifetimes (IkeSa *sa, gint64 now)
{
  g_autoptr (GError) error = NULL;

  if (sa->state != IKE_STATE_ESTABLISHED)
    return;
  if (now >= sa->expire_at)
    {
      g_message ("IKE SA %" G_GUINT64_FORMAT " (%s): hard lifetime expired", sa->handle,
                 sa->config->name);
      if (!ike_info_start_delete (sa, now, &error))
        ike_sa_end (sa, "hard lifetime expired", 0, FALSE, FALSE);
      return;
    }
  if (now >= sa->rekey_at)
    {
      sa->rekey_at = G_MAXINT64;
      ike_task_add (sa, IKE_TASK_REKEY_IKE, 0);
    }
  child_lifetimes (sa, now);
}

/* ---- The API ---- */

static IkeSa *
established (IkeEngine *engine, gint64 now, IkeSaHandle handle, GError **error)
{
  IkeSa *sa = ike_engine_find_handle (engine, handle);

  ike_engine_begin (engine, now);
  if (sa == NULL || sa->state != IKE_STATE_ESTABLISHED)
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_NOT_FOUND,
                   "no established IKE SA %" G_GUINT64_FORMAT, handle);
      return NULL;
    }
  return sa;
}

static gboolean
queue (IkeEngine *engine, gint64 now, IkeSaHandle handle, IkeTaskKind kind, guint32 spi,
       GError **error)
{
  IkeSa *sa = established (engine, now, handle, error);

  if (sa == NULL)
    return FALSE;
  if (kind == IKE_TASK_CREATE_CHILD && sa->config->esp.n_proposals == 0)
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID, "%s: no ESP proposals",
                   sa->config->name);
      return FALSE;
    }
  if ((kind == IKE_TASK_REKEY_CHILD || kind == IKE_TASK_DELETE_CHILD)
      && ike_child_find (sa, spi) == NULL)
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_NOT_FOUND,
                   "no Child SA with inbound SPI %08x", spi);
      return FALSE;
    }
  ike_task_add (sa, kind, spi);
  ike_task_kick (sa, now);
  ike_engine_sweep (engine);
  return TRUE;
}

gboolean
ike_engine_create_child (IkeEngine *engine, gint64 now, IkeSaHandle handle, GError **error)
{
  return queue (engine, now, handle, IKE_TASK_CREATE_CHILD, 0, error);
}

gboolean
ike_engine_rekey_child (IkeEngine *engine, gint64 now, IkeSaHandle handle, guint32 spi_in,
                        GError **error)
{
  return queue (engine, now, handle, IKE_TASK_REKEY_CHILD, spi_in, error);
}

gboolean
ike_engine_rekey_ike (IkeEngine *engine, gint64 now, IkeSaHandle handle, GError **error)
{
  return queue (engine, now, handle, IKE_TASK_REKEY_IKE, 0, error);
}

gboolean
ike_engine_delete_child (IkeEngine *engine, gint64 now, IkeSaHandle handle, guint32 spi_in,
                         GError **error)
{
  return queue (engine, now, handle, IKE_TASK_DELETE_CHILD, spi_in, error);
}

typedef struct
{
  guint32 spi;
  gboolean hard;
  gint64 now;
  gboolean found;
} Expired;

static void
expire_child (IkeSa *sa, gpointer data)
{
  Expired *e = data;

  if (e->found || sa->state != IKE_STATE_ESTABLISHED)
    return;
  for (guint i = 0; i < sa->children->len; i++)
    {
      IkeChild *child = &g_array_index (sa->children, IkeChild, i);

      if (child->spi_in != e->spi && child->spi_out != e->spi)
        continue;
      e->found = TRUE;
      ike_engine_touch (sa->engine, sa);
      /* The kernel's limits (bytes, packets) end up where our timers do. */
      if (e->hard)
        child->expire_at = e->now;
      else
        child->rekey_at = MIN (child->rekey_at, e->now);
      ike_task_lifetimes (sa, e->now);
      ike_task_kick (sa, e->now);
      return;
    }
}

gboolean
ike_engine_child_expired (IkeEngine *engine, gint64 now, guint32 spi, gboolean hard)
{
  Expired e = { spi, hard, now, FALSE };

  ike_engine_begin (engine, now);
  ike_engine_foreach_sa (engine, expire_child, &e);
  ike_engine_sweep (engine);
  return e.found;
}
