/* The engine's deadlines: a min-heap of (due, handle), so that the next
 * deadline and the SAs due at a tick cost O(log n) rather than a walk over
 * every IKE SA after every datagram (with 10,000 SAs that walk took most of
 * the daemon's time; bench/RESULTS.md).
 *
 * The heap is lazy.  An SA's deadline (ike_sa_deadline) depends only on the
 * SA, and an SA changes only in an input that reached it, through a lookup
 * (which touches it) or ike_engine_foreach_sa (whose callback touches what
 * it changes).  After the input the touched SAs' deadlines are recomputed;
 * a changed one is pushed again and the old entry goes stale: an entry
 * counts only while it names a live SA whose timer_due it equals. */
#include "ike-engine-private.h"

typedef struct
{
  gint64 due;
  IkeSaHandle handle;
} IkeTimer;

struct _IkeTimers
{
  GArray *heap;    /* IkeTimer, heap-ordered by due */
  GArray *touched; /* IkeSaHandle */
};

IkeTimers *
ike_timers_new (void)
{
  IkeTimers *timers = g_new0 (IkeTimers, 1);

  timers->heap = g_array_new (FALSE, FALSE, sizeof (IkeTimer));
  timers->touched = g_array_new (FALSE, FALSE, sizeof (IkeSaHandle));
  return timers;
}

void
ike_timers_free (IkeTimers *timers)
{
  if (timers == NULL)
    return;
  g_array_unref (timers->heap);
  g_array_unref (timers->touched);
  g_free (timers);
}

#define AT(i) g_array_index (timers->heap, IkeTimer, (i))

static void
push (IkeTimers *timers, gint64 due, IkeSaHandle handle)
{
  IkeTimer t = { due, handle };
  guint i = timers->heap->len;

  g_array_append_val (timers->heap, t);
  while (i > 0 && AT ((i - 1) / 2).due > due)
    {
      AT (i) = AT ((i - 1) / 2);
      i = (i - 1) / 2;
    }
  AT (i) = t;
}

static void
pop (IkeTimers *timers)
{
  guint n = timers->heap->len - 1, i = 0;
  IkeTimer last = AT (n);

  g_array_set_size (timers->heap, n);
  if (n == 0)
    return;
  for (;;)
    {
      guint child = 2 * i + 1;

      if (child >= n)
        break;
      if (child + 1 < n && AT (child + 1).due < AT (child).due)
        child++;
      if (AT (child).due >= last.due)
        break;
      AT (i) = AT (child);
      i = child;
    }
  AT (i) = last;
}

void
ike_timers_touch (IkeTimers *timers, IkeSa *sa)
{
  if (sa == NULL || sa->touched)
    return;
  sa->touched = TRUE;
  g_array_append_val (timers->touched, sa->handle);
}

/* Stale entries pile up only while deadlines keep moving later (each
 * message moves a DPD deadline); past twice the live SAs, start afresh. */
static void
rebuild (IkeTimers *timers, GHashTable *by_handle)
{
  GHashTableIter iter;
  gpointer value;

  g_array_set_size (timers->heap, 0);
  g_hash_table_iter_init (&iter, by_handle);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      IkeSa *sa = value;

      if (sa->timer_due != G_MAXINT64)
        push (timers, sa->timer_due, sa->handle);
    }
}

static void
refresh (IkeTimers *timers, GHashTable *by_handle)
{
  for (guint i = 0; i < timers->touched->len; i++)
    {
      IkeSaHandle handle = g_array_index (timers->touched, IkeSaHandle, i);
      IkeSa *sa = g_hash_table_lookup (by_handle, &handle);
      gint64 due;

      if (sa == NULL)
        continue; /* gone: its entries are stale */
      sa->touched = FALSE;
      due = ike_sa_deadline (sa);
      if (due == sa->timer_due)
        continue;
      sa->timer_due = due;
      if (due != G_MAXINT64)
        push (timers, due, handle);
    }
  g_array_set_size (timers->touched, 0);
  if (timers->heap->len > 2 * g_hash_table_size (by_handle) + 1024)
    rebuild (timers, by_handle);
}

/* The live SA of the heap's top entry, dropping stale ones on the way. */
static IkeSa *
top (IkeTimers *timers, GHashTable *by_handle)
{
  while (timers->heap->len > 0)
    {
      IkeSa *sa = g_hash_table_lookup (by_handle, &AT (0).handle);

      if (sa != NULL && sa->timer_due == AT (0).due && sa->state != IKE_STATE_DEAD)
        return sa;
      pop (timers);
    }
  return NULL;
}

gint64
ike_timers_next (IkeTimers *timers, GHashTable *by_handle)
{
  IkeSa *sa;

  refresh (timers, by_handle);
  sa = top (timers, by_handle);
  return sa != NULL ? sa->timer_due : G_MAXINT64;
}

/* Moves the SAs due at @now into @due.  Each leaves the heap and is
 * touched, so that its next deadline is pushed after the tick. */
void
ike_timers_take_due (IkeTimers *timers, GHashTable *by_handle, gint64 now, GPtrArray *due)
{
  IkeSa *sa;

  refresh (timers, by_handle);
  while ((sa = top (timers, by_handle)) != NULL && sa->timer_due <= now)
    {
      pop (timers);
      sa->timer_due = G_MAXINT64;
      ike_timers_touch (timers, sa);
      g_ptr_array_add (due, sa);
    }
}
