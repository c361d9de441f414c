/* An in-memory XfrmDriver for unit tests of policy/ and the daemon.
 *
 * It behaves like the kernel where the callers can tell (SPIs and policy
 * indexes handed out, EXISTS / NOT_FOUND / NOT_OURS, "ours" filtering, the
 * same argument checks as the real driver) and records every call, keys
 * left out.  Tests inject failures, foreign objects and kernel events. */
#pragma once

#include "xfrm.h"

G_BEGIN_DECLS

typedef enum
{
  XFRM_FAKE_ALLOC_SPI,
  XFRM_FAKE_ADD_SA,
  XFRM_FAKE_UPDATE_SA,
  XFRM_FAKE_DELETE_SA,
  XFRM_FAKE_GET_SA,
  XFRM_FAKE_LIST_SAS,
  XFRM_FAKE_ADD_POLICY,
  XFRM_FAKE_UPDATE_POLICY,
  XFRM_FAKE_DELETE_POLICY,
  XFRM_FAKE_LIST_POLICIES,
  XFRM_FAKE_SUBSCRIBE,
  XFRM_FAKE_N_OPS,
} XfrmFakeOp;

typedef struct
{
  XfrmFakeOp op;
  gboolean ok;
  XfrmSa sa;         /* ADD_SA, UPDATE_SA: key pointers NULL, lengths kept */
  XfrmPolicy policy; /* ADD_POLICY, UPDATE_POLICY (index as handed out);
                        DELETE_POLICY: sel and dir */
  XfrmAddr dst;      /* ALLOC_SPI (with src), DELETE_SA, GET_SA */
  XfrmAddr src;
  guint32 spi; /* ALLOC_SPI: the SPI handed out */
  char *text;  /* one line, e.g. "add_policy out 10.0.0.0/8... trap prio 100" */
} XfrmFakeCall;

XfrmDriver *xfrm_fake_new (void);

guint xfrm_fake_get_n_calls (XfrmDriver *driver);
const XfrmFakeCall *xfrm_fake_get_call (XfrmDriver *driver, guint i);
/* How many calls of @op were made. */
guint xfrm_fake_count (XfrmDriver *driver, XfrmFakeOp op);
/* All calls' text, one per line. */
char *xfrm_fake_describe (XfrmDriver *driver);
void xfrm_fake_clear_calls (XfrmDriver *driver);

/* The next call of @op fails with @code (recorded, state unchanged). */
void xfrm_fake_fail_next (XfrmDriver *driver, XfrmFakeOp op, XfrmError code);
/* A kernel without ESP: every ADD_SA / UPDATE_SA fails with NO_ESP. */
void xfrm_fake_set_no_esp (XfrmDriver *driver, gboolean no_esp);
/* Objects of another program (not recorded as calls). */
void xfrm_fake_add_foreign_policy (XfrmDriver *driver, const XfrmPolicy *policy);
void xfrm_fake_add_foreign_sa (XfrmDriver *driver, const XfrmSa *sa);
/* Counters as GETSA will report them. */
gboolean xfrm_fake_set_stats (XfrmDriver *driver, const XfrmAddr *dst, guint32 spi,
                              const XfrmSaStats *stats);
/* How many policies / SAs exist, foreign ones included. */
guint xfrm_fake_n_policies (XfrmDriver *driver);
guint xfrm_fake_n_sas (XfrmDriver *driver);
/* Delivers @event to the event function at once, as the kernel would have
 * (after the same "ours" filter); FALSE if it was filtered or nobody
 * subscribed. */
gboolean xfrm_fake_emit (XfrmDriver *driver, const XfrmEvent *event);

G_END_DECLS
