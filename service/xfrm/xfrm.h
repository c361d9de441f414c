/* service/xfrm/: the kernel's IPsec (XFRM) over netlink (DESIGN.md §4).
 *
 * An XfrmDriver installs SAs and policies and reports kernel events.  It is
 * an interface (a small vtable) with two implementations:
 *
 *   xfrm_netlink_new ()   the real one: NETLINK_XFRM through libmnl
 *   xfrm_fake_new ()      in memory, recording every call (xfrm-fake.h)
 *
 * so that policy/ and the daemon are unit-tested without a kernel.
 *
 * "Ours": the daemon only ever touches or flushes what it created, and
 * finds its leftovers after a restart (even after SIGKILL) in the kernel
 * alone, without a state file:
 *
 *   - every SA carries a reqid in [XFRM_REQID_MIN, XFRM_REQID_MAX];
 *   - every policy carries an index in the XFRM_INDEX_TAG range (the
 *     kernel keeps a policy index chosen by user space, as long as its low
 *     three bits are the direction; iproute2's `index` does the same).
 *     Policies without a template (pass, drop) have no reqid, and marks or
 *     interface ids would change which packets a policy matches, so the
 *     index is the only tag that every policy can carry harmlessly.
 *
 * Deleting and updating check the tag first; listing and flushing filter on
 * it.  A foreign policy or SA (another IKE daemon, `ip xfrm`) is never
 * touched, and a clash with one is an error (XFRM_ERROR_EXISTS).
 *
 * All calls are synchronous (the kernel answers at once) and run on the
 * caller's thread; events come through the GLib main loop of the thread
 * that called xfrm_driver_set_event_func. */
#pragma once

#include <glib.h>
#include <sys/socket.h>

G_BEGIN_DECLS

#define XFRM_ERROR (xfrm_error_quark ())
GQuark xfrm_error_quark (void);

typedef enum
{
  XFRM_ERROR_FAILED,      /* the kernel refused; the message says why */
  XFRM_ERROR_NO_ESP,      /* the kernel lacks ESP support (esp4/esp6) */
  XFRM_ERROR_NO_ALG,      /* the kernel lacks this algorithm */
  XFRM_ERROR_INVALID,     /* an argument that cannot work */
  XFRM_ERROR_EXISTS,      /* an SA or policy with that identity exists */
  XFRM_ERROR_NOT_FOUND,   /* no such SA or policy */
  XFRM_ERROR_NOT_OURS,    /* it exists, but another program owns it */
  XFRM_ERROR_PERMISSION,  /* no CAP_NET_ADMIN */
  XFRM_ERROR_UNSUPPORTED, /* an IKE transform the kernel layer does not map */
} XfrmError;

/* The tags of "ours" (see above).  reqid 0 means "any" to the kernel, and
 * other daemons count up from 1, so ours start high. */
#define XFRM_REQID_MIN 0x5ec00000u
#define XFRM_REQID_MAX 0x5ecfffffu
#define XFRM_INDEX_TAG 0x5e000000u
#define XFRM_INDEX_TAG_MASK 0xff000000u

gboolean xfrm_reqid_is_ours (guint32 reqid);
gboolean xfrm_index_is_ours (guint32 index);

/* ---- Addresses and selectors ---- */

typedef struct
{
  int family;       /* AF_INET, AF_INET6, or 0 (unset / any) */
  guint8 bytes[16]; /* network order; the first 4 for AF_INET */
} XfrmAddr;

gboolean xfrm_addr_parse (const char *text, XfrmAddr *addr, GError **error);
/* "192.0.2.1/24" or an address alone (a host prefix). */
gboolean xfrm_prefix_parse (const char *text, XfrmAddr *addr, guint8 *prefix_len, GError **error);
void xfrm_addr_from_sockaddr (const struct sockaddr_storage *sa, XfrmAddr *addr);
char *xfrm_addr_to_string (const XfrmAddr *addr);
gboolean xfrm_addr_equal (const XfrmAddr *a, const XfrmAddr *b);
guint xfrm_addr_host_bits (int family); /* 32 or 128 */

/* Which packets a policy (or an SA, in transport mode) applies to.  Ports
 * are host order, 0 for any; proto 0 for any. */
typedef struct
{
  XfrmAddr src, dst; /* same family */
  guint8 src_prefix, dst_prefix;
  guint8 proto;
  guint16 sport, dport;
} XfrmSelector;

/* Both host prefixes, any protocol (what transport mode protects). */
void xfrm_selector_host_pair (XfrmSelector *sel, const XfrmAddr *src, const XfrmAddr *dst);
gboolean xfrm_selector_equal (const XfrmSelector *a, const XfrmSelector *b);
char *xfrm_selector_to_string (const XfrmSelector *sel);

typedef enum
{
  XFRM_TRANSPORT = 0, /* the kernel's numbers */
  XFRM_TUNNEL = 1,
} XfrmMode;

typedef enum
{
  XFRM_DIR_IN = 0, /* the kernel's numbers */
  XFRM_DIR_OUT = 1,
  XFRM_DIR_FWD = 2,
} XfrmDir;

/* ---- Algorithms: IKE transform ids (ike-types.h) to kernel names ---- */

typedef struct
{
  guint8 transform_type; /* IKE_TRANSFORM_ENCR or IKE_TRANSFORM_INTEG */
  guint16 id;            /* IkeEncrId or IkeIntegId */
  const char *kernel_name;
  gboolean aead;
  guint icv_bits;   /* AEAD ICV, or the truncation of an integrity algorithm */
  guint salt_bytes; /* key material after the key proper (RFC 4106 §8.1) */
  guint key_bits;   /* fixed key size; 0 when the Key Length attribute says */
} XfrmAlgorithm;

/* NULL when the kernel layer does not map that transform. */
const XfrmAlgorithm *xfrm_algorithm_lookup (guint8 transform_type, guint16 id);
/* The table entry for a kernel algorithm as the kernel reports it. */
const XfrmAlgorithm *xfrm_algorithm_lookup_kernel (const char *kernel_name, guint icv_bits);

/* ---- SAs ---- */

/* 0 means "no limit" for every field. */
typedef struct
{
  guint64 soft_bytes, hard_bytes;
  guint64 soft_packets, hard_packets;
  guint64 soft_seconds, hard_seconds; /* since the SA was added */
} XfrmLifetime;

typedef struct
{
  XfrmAddr src, dst; /* the outer addresses */
  guint32 spi;       /* host order */
  XfrmMode mode;
  guint32 reqid; /* must be ours */
  /* Zeroed: the host pair in transport mode, everything of the addresses'
   * family in tunnel mode. */
  XfrmSelector sel;
  /* The suite, as IKE negotiated it. */
  guint16 encr;     /* IkeEncrId */
  guint16 key_bits; /* 0 for algorithms of one fixed size */
  guint16 integ;    /* IkeIntegId, 0 with AEAD */
  gboolean esn;
  /* Keys (borrowed): encr includes the salt of AEAD algorithms.  The
   * driver copies them into the message and wipes its copy. */
  const guint8 *encr_key;
  gsize encr_key_len;
  const guint8 *integ_key;
  gsize integ_key_len;
  guint32 replay_window; /* packets; 0 for outbound SAs */
  XfrmLifetime life;
  /* UDP encapsulation (RFC 3948) when encap_sport is not 0. */
  guint16 encap_sport, encap_dport;
  /* The seq of the ACQUIRE this SA answers (0: none), so that the kernel
   * retires its larval SA at once. */
  guint32 acquire_seq;
} XfrmSa;

typedef struct
{
  guint64 bytes, packets;
  guint64 add_time, use_time; /* seconds since the epoch, 0: never used */
  guint32 replay_errors, integrity_errors;
} XfrmSaStats;

/* An SA as listed: no keys. */
typedef struct
{
  XfrmSa sa;
  XfrmSaStats stats;
} XfrmSaInfo;

/* ---- Policies ---- */

typedef enum
{
  XFRM_ACTION_TRAP,  /* allow + ESP template, no SA yet: the kernel ACQUIREs */
  XFRM_ACTION_PASS,  /* allow, no template: clear text */
  XFRM_ACTION_DROP,  /* block */
  XFRM_ACTION_IPSEC, /* allow + ESP template bound to reqid */
} XfrmAction;

typedef struct
{
  XfrmSelector sel;
  XfrmDir dir;
  XfrmAction action;
  guint32 priority; /* lower wins, as in the kernel */
  /* TRAP and IPSEC: the template.  In tunnel mode tmpl_src/tmpl_dst are the
   * outer addresses; in transport mode they may be left unset. */
  XfrmMode mode;
  XfrmAddr tmpl_src, tmpl_dst;
  guint32 reqid; /* ours; the SA must carry the same */
  /* A shunt that goes away by itself: POLEXPIRE events (0: none). */
  guint64 soft_seconds, hard_seconds;
  /* Out: the kernel's index of the policy (ours by construction). */
  guint32 index;
} XfrmPolicy;

/* ---- Events ---- */

typedef enum
{
  XFRM_EVENT_ACQUIRE,   /* a packet hit a trap policy */
  XFRM_EVENT_EXPIRE,    /* an SA reached a soft or hard limit */
  XFRM_EVENT_POLEXPIRE, /* a policy reached its lifetime */
  XFRM_EVENT_MAPPING,   /* the peer's NAT mapping (address or port) changed */
} XfrmEventKind;

typedef struct
{
  XfrmEventKind kind;
  /* ACQUIRE: the packet's flow (sel: host prefixes, its proto and ports)
   * and the template's endpoints (src, dst: the flow's own addresses in
   * transport mode); reqid, policy_index, dir and seq from the kernel.
   * POLEXPIRE: sel, dir, policy_index, hard. */
  XfrmSelector sel;
  XfrmAddr src, dst;
  guint32 reqid;
  guint32 policy_index;
  XfrmDir dir;
  guint32 seq;
  /* EXPIRE: the SA (dst, spi, reqid), hard or soft.  MAPPING: the SA (dst,
   * spi, reqid) and the peer's old and new address and port. */
  guint32 spi;
  gboolean hard;
  XfrmAddr old_addr, new_addr;
  guint16 old_port, new_port;
} XfrmEvent;

typedef void (*XfrmEventFunc) (const XfrmEvent *event, gpointer user_data);

/* ---- The driver ---- */

typedef struct _XfrmDriver XfrmDriver;

typedef struct
{
  const char *name;
  void (*free) (XfrmDriver *driver);
  gboolean (*alloc_spi) (XfrmDriver *driver, const XfrmAddr *src, const XfrmAddr *dst,
                         XfrmMode mode, guint32 reqid, guint32 min, guint32 max, guint32 *spi,
                         GError **error);
  gboolean (*add_sa) (XfrmDriver *driver, const XfrmSa *sa, gboolean update, GError **error);
  gboolean (*delete_sa) (XfrmDriver *driver, const XfrmAddr *dst, guint32 spi, GError **error);
  gboolean (*get_sa) (XfrmDriver *driver, const XfrmAddr *dst, guint32 spi, XfrmSaInfo *info,
                      GError **error);
  GArray *(*list_sas) (XfrmDriver *driver, GError **error);
  gboolean (*add_policy) (XfrmDriver *driver, XfrmPolicy *policy, gboolean update, GError **error);
  gboolean (*delete_policy) (XfrmDriver *driver, const XfrmSelector *sel, XfrmDir dir,
                             GError **error);
  GArray *(*list_policies) (XfrmDriver *driver, GError **error);
  gboolean (*subscribe) (XfrmDriver *driver, GError **error);
} XfrmDriverClass;

/* Implementations embed this first. */
struct _XfrmDriver
{
  const XfrmDriverClass *klass;
  XfrmEventFunc event_func;
  gpointer event_data;
};

/* The real driver on a NETLINK_XFRM socket of the current namespace. */
XfrmDriver *xfrm_netlink_new (GError **error);

void xfrm_driver_free (XfrmDriver *driver);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XfrmDriver, xfrm_driver_free)
const char *xfrm_driver_get_name (XfrmDriver *driver);

/* An SPI for an inbound SA from @src to us (@dst), in [min, max]; the kernel
 * holds it in a larval SA (for net.core.xfrm_acq_expires, 30 s) until
 * xfrm_driver_update_sa installs the real one. */
gboolean xfrm_driver_alloc_spi (XfrmDriver *driver, const XfrmAddr *src, const XfrmAddr *dst,
                                XfrmMode mode, guint32 reqid, guint32 min, guint32 max,
                                guint32 *spi, GError **error);
/* A new SA with the SPI it names (XFRM_ERROR_EXISTS if taken). */
gboolean xfrm_driver_add_sa (XfrmDriver *driver, const XfrmSa *sa, GError **error);
/* Replaces an SA of ours, or the larval SA of xfrm_driver_alloc_spi. */
gboolean xfrm_driver_update_sa (XfrmDriver *driver, const XfrmSa *sa, GError **error);
gboolean xfrm_driver_delete_sa (XfrmDriver *driver, const XfrmAddr *dst, guint32 spi,
                                GError **error);
/* The SA with its counters (keys left out); any SA: reading touches nothing. */
gboolean xfrm_driver_get_sa (XfrmDriver *driver, const XfrmAddr *dst, guint32 spi, XfrmSaInfo *info,
                             GError **error);
/* Our SAs (larval ones included), an array of XfrmSaInfo. */
GArray *xfrm_driver_list_sas (XfrmDriver *driver, GError **error);

/* Fills policy->index. */
gboolean xfrm_driver_add_policy (XfrmDriver *driver, XfrmPolicy *policy, GError **error);
/* Replaces our policy with the same selector and direction (or adds it). */
gboolean xfrm_driver_update_policy (XfrmDriver *driver, XfrmPolicy *policy, GError **error);
gboolean xfrm_driver_delete_policy (XfrmDriver *driver, const XfrmSelector *sel, XfrmDir dir,
                                    GError **error);
/* Our policies, an array of XfrmPolicy. */
GArray *xfrm_driver_list_policies (XfrmDriver *driver, GError **error);

/* Deletes all our policies, then all our SAs; foreign ones stay.  The
 * counts (optional) say how many went. */
gboolean xfrm_driver_flush (XfrmDriver *driver, guint *n_policies, guint *n_sas, GError **error);

/* Events, called on the main loop of the calling thread's default context.
 * Set once.  The real driver listens to the kernel's ACQUIRE, EXPIRE (which
 * also carries POLEXPIRE) and MAPPING groups, and passes on only events
 * about our objects: an ACQUIRE or POLEXPIRE of a policy with our index, an
 * EXPIRE or MAPPING of an SA with our reqid.  The callback may call the
 * driver.  Malformed messages are logged (g_warning) and skipped. */
gboolean xfrm_driver_set_event_func (XfrmDriver *driver, XfrmEventFunc func, gpointer user_data,
                                     GError **error);

/* Whether the kernel can do ESP: installs and removes a throw-away SA of
 * ours (AES-CBC + HMAC-SHA2-256, 127.0.0.1, reqid XFRM_REQID_MAX, which is
 * kept for it).  FALSE with XFRM_ERROR_NO_ESP when it lacks esp4/esp6, with
 * another error when the probe could not tell.  Adding an SA runs the probe
 * by itself when the kernel says "no such algorithm", so that a missing ESP
 * is reported as such; callers report NO_ESP once, not per SA. */
gboolean xfrm_driver_probe_esp (XfrmDriver *driver, GError **error);

/* net.core.xfrm_larval_drop of the current network namespace: with 0, packets
 * that hit a trap policy wait for the SA instead of being dropped (issue 5).
 * The daemon owns this setting. */
gboolean xfrm_larval_drop_get (gboolean *drop, GError **error);
gboolean xfrm_larval_drop_set (gboolean drop, GError **error);

const char *xfrm_action_to_string (XfrmAction action);
const char *xfrm_event_kind_to_string (XfrmEventKind kind);

G_END_DECLS
