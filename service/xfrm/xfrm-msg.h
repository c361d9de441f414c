/* XFRM netlink messages: building requests and parsing what the kernel
 * sends, with libmnl and nothing else.  Pure functions on buffers, so unit
 * tests check them without a kernel.  Private to service/xfrm/ and its
 * tests. */
#pragma once

#include <libmnl/libmnl.h>
#include <linux/xfrm.h>

#include "xfrm.h"

G_BEGIN_DECLS

/* Large enough for any request we build (an SA with three keys and every
 * attribute is under 1 KiB) and for a dump batch. */
#define XFRM_MSG_BUF_SIZE 32768

/* A buffer that may hold keys: wiped when it goes. */
typedef struct
{
  guint8 *data;
  gsize size;
} XfrmMsgBuf;

XfrmMsgBuf *xfrm_msg_buf_new (void);
void xfrm_msg_buf_free (XfrmMsgBuf *buf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XfrmMsgBuf, xfrm_msg_buf_free)

void xfrm_msg_addr_to_kernel (const XfrmAddr *addr, xfrm_address_t *out);
void xfrm_msg_addr_from_kernel (const xfrm_address_t *in, int family, XfrmAddr *addr);
void xfrm_msg_selector_to_kernel (const XfrmSelector *sel, struct xfrm_selector *out);
void xfrm_msg_selector_from_kernel (const struct xfrm_selector *in, XfrmSelector *sel);

/* Requests.  Each returns the message at the start of @buf, or NULL with
 * @error set when the arguments cannot make a valid one. */
struct nlmsghdr *xfrm_msg_new_sa (XfrmMsgBuf *buf, const XfrmSa *sa, gboolean update,
                                  GError **error);
struct nlmsghdr *xfrm_msg_sa_id (XfrmMsgBuf *buf, guint16 type, const XfrmAddr *dst, guint32 spi);
struct nlmsghdr *xfrm_msg_alloc_spi (XfrmMsgBuf *buf, const XfrmAddr *src, const XfrmAddr *dst,
                                     XfrmMode mode, guint32 reqid, guint32 min, guint32 max);
struct nlmsghdr *xfrm_msg_new_policy (XfrmMsgBuf *buf, const XfrmPolicy *policy, gboolean update,
                                      GError **error);
/* By index when @index is not 0, else by selector and direction. */
struct nlmsghdr *xfrm_msg_policy_id (XfrmMsgBuf *buf, guint16 type, const XfrmSelector *sel,
                                     XfrmDir dir, guint32 index);
struct nlmsghdr *xfrm_msg_dump (XfrmMsgBuf *buf, guint16 type);

/* Parsers: every length checked, unknown attributes skipped.  Key pointers
 * of a parsed SA point into @nlh. */
gboolean xfrm_msg_parse_sa (const struct nlmsghdr *nlh, XfrmSaInfo *info, GError **error);
gboolean xfrm_msg_parse_policy (const struct nlmsghdr *nlh, XfrmPolicy *policy, GError **error);
/* ACQUIRE, EXPIRE, POLEXPIRE or MAPPING; FALSE without @error for any other
 * message type.  Whether the event concerns our objects is the caller's
 * business. */
gboolean xfrm_msg_parse_event (const struct nlmsghdr *nlh, XfrmEvent *event, GError **error);

/* The validation rules shared by the real driver and the fake. */
gboolean xfrm_msg_check_sa (const XfrmSa *sa, GError **error);
gboolean xfrm_msg_check_policy (const XfrmPolicy *policy, GError **error);
gboolean xfrm_msg_check_selector (const XfrmSelector *sel, GError **error);

G_END_DECLS
