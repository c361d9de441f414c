/* Inside the engine: the IKE SA, the configuration's fields, the received
 * message as handlers see it, and the functions the engine's files share.
 * Nothing here is for code outside ike-engine*.c, ike-sa.c, ike-exch-*.c,
 * ike-protect.c, ike-frag.c, ike-nat.c, ike-config.c, ike-child.c and
 * ike-cert.c. */
#pragma once

#include "ike-engine.h"

#include "ike-sign.h"

G_BEGIN_DECLS

/* ---- Configuration ---- */

typedef struct
{
  IkeAuthMethod method; /* 0 until set */
  IkeIdType id_type;    /* 0: any (remote only) */
  GBytes *id;
} IkeAuthConfig;

struct _IkeConfig
{
  gint ref_count;
  char *name;
  IkeAuthConfig local, remote;
  IkeSecret *psk;
  SECKEYPrivateKey *private_key;
  SECKEYPublicKey *peer_key;
  /* Certificates: ours and our intermediates (CERTCertificate, ours
   * first), the CAs the peer must chain to. */
  GPtrArray *local_certs;
  GPtrArray *remote_cas;
  IkeSendCert send_cert;
  IkeProposalList ike, esp;
  gboolean childless;
  IkeMode mode;
  gboolean accept_tunnel; /* transport asked, a tunnel answer is fine */
  guint n_ts_local, n_ts_remote;
  IkeTs ts_local[IKE_CONFIG_MAX_TS];
  IkeTs ts_remote[IKE_CONFIG_MAX_TS];
  gint64 retransmit_base;
  guint retransmit_limit;
  gint64 dpd_delay;
  IkePeerGoneAction peer_gone;
  /* Lifetimes (0: none): rekey at soft less up to jitter percent, delete at
   * hard. */
  gint64 ike_soft, ike_hard, child_soft, child_hard;
  guint jitter;
  /* RFC 7383: announced unless off; 0 size: the family's default. */
  gboolean fragmentation;
  guint fragment_size;
  gint64 nat_keepalive; /* 0: none */
};

/* ---- The IKE SA ---- */

typedef enum
{
  IKE_STATE_NONE,        /* no SA yet: an IKE_SA_INIT request arrives */
  IKE_STATE_I_INIT_SENT, /* initiator, IKE_SA_INIT request out */
  IKE_STATE_R_INIT_DONE, /* responder, half-open: IKE_SA_INIT answered */
  IKE_STATE_I_AUTH_SENT, /* initiator, IKE_AUTH request out */
  IKE_STATE_ESTABLISHED,
  IKE_STATE_DELETING,  /* our Delete of the IKE SA is out */
  IKE_STATE_REKEYED,   /* replaced by a rekeyed IKE SA; the peer deletes it */
  IKE_STATE_TOMBSTONE, /* responder after AUTHENTICATION_FAILED: replays it */
  IKE_STATE_DEAD,      /* reported; freed when the current input returns */
  IKE_STATE_SAME,      /* table only: the handler keeps the state */
} IkeSaState;

/* What a request in flight is for, to read its response. */
typedef enum
{
  IKE_REQ_NONE,
  IKE_REQ_INIT,
  IKE_REQ_AUTH,
  IKE_REQ_DPD,
  IKE_REQ_DELETE,
  IKE_REQ_NOTIFY, /* a one-shot error report: not retransmitted */
  IKE_REQ_CREATE, /* CREATE_CHILD_SA: sa->create says what for */
  IKE_REQ_DELETE_CHILD,
} IkeRequestKind;

/* Work an established IKE SA has to do, one exchange at a time (window 1). */
typedef enum
{
  IKE_TASK_DELETE_CHILD, /* spi: our inbound SPI (the child may be gone) */
  IKE_TASK_CREATE_CHILD,
  IKE_TASK_REKEY_CHILD, /* spi: our inbound SPI of the child */
  IKE_TASK_REKEY_IKE,
} IkeTaskKind;

typedef struct
{
  IkeTaskKind kind;
  guint32 spi;
  gint64 not_before; /* after TEMPORARY_FAILURE */
} IkeTask;

/* Everything only IKE_SA_INIT and IKE_AUTH need; freed when the SA is up, so
 * an established SA keeps neither the IKE_SA_INIT messages nor the nonces. */
typedef struct
{
  IkeDh *dh;
  GBytes *ni, *nr;
  GBytes *init_msg;  /* ours: the request (initiator) or response (responder) */
  GBytes *peer_init; /* the peer's IKE_SA_INIT message, for its AUTH */
  GBytes *cookie;    /* initiator: the responder's COOKIE to echo */
  PK11SymKey *sk_pi, *sk_pr;
  guint16 peer_hashes[8];
  guint n_peer_hashes;
  gboolean peer_childless;
  guint n_cookie_tries, n_ke_tries;
  guint32 child_spi; /* initiator: our inbound SPI offered in IKE_AUTH */
  /* The first Child SA, reported once the IKE SA is up: */
  IkeKernelRequest *child;
  char *child_error;
  guint16 child_notify;
  gboolean child_notify_from_peer;
} IkeHandshake;

typedef struct
{
  guint32 spi_in, spi_out;
  IkeSuite esp;
  IkeMode mode;
  guint n_ts_local, n_ts_remote;
  IkeTs ts_local[IKE_CONFIG_MAX_TS];
  IkeTs ts_remote[IKE_CONFIG_MAX_TS];
  gint64 rekey_at, expire_at; /* soft and hard lifetime; G_MAXINT64: none */
  guint32 replaced_by;        /* rekeyed: the new child's inbound SPI, else 0 */
} IkeChild;

/* Our CREATE_CHILD_SA request in flight, to read its response. */
typedef struct
{
  IkeTaskKind kind;
  guint32 rekey_spi; /* REKEY_CHILD: our inbound SPI of the old child */
  guint32 spi;       /* child: our new inbound SPI */
  guint64 ike_spi;   /* REKEY_IKE: our SPI of the new IKE SA */
  GBytes *ni;
  IkeDh *dh; /* PFS or IKE rekey */
  guint n_ke_tries;
  IkeKernelRequest offer; /* mode and selectors offered */
  /* Collision (§2.8.1): the peer rekeyed the same SA while this was out.
   * peer_low is the lower nonce of the peer's exchange; what it made is
   * peer_spi (child: our inbound SPI) or peer_sa (IKE: the new SA). */
  GBytes *peer_low;
  guint32 peer_spi;
  IkeSaHandle peer_sa;
} IkeCreate;

typedef struct _IkeSa IkeSa;
typedef struct _IkeFragBuf IkeFragBuf;

struct _IkeSa
{
  IkeEngine *engine;
  IkeSaHandle handle;
  IkeConfig *config; /* NULL for a responder until the lookup found one */
  IkeEnds ends;
  guint64 spi_i, spi_r; /* as on the wire, read big-endian */
  guint64 our_spi;      /* key of the engine's SA table */
  IkeSaState state;
  guint initiator : 1;
  guint nat_local : 1;
  guint nat_remote : 1;
  guint authenticated : 1;
  guint counted : 1; /* in ike_engine_live_sas() of its config */
  IkeSuite suite;
  IkeCipher *c_out, *c_in;
  IkeSecret *sk_d; /* as bytes between uses: ike-crypto.h */
  IkeHandshake *hs;
  /* Message IDs (window 1): the next request we send, the next we accept. */
  guint32 mid_out, mid_in;
  /* Our request in flight, kept for retransmission: the datagrams of one
   * message (GBytes; several when fragmented, all sent each time). */
  GPtrArray *req;
  IkeRequestKind req_kind;
  gint64 req_due;
  guint req_tries;
  /* Our response to request mid_in - 1, re-sent whole when it comes again. */
  GPtrArray *resp;
  guint frag_peer : 1;    /* the peer announced RFC 7383 fragmentation */
  guint peer_certreq : 1; /* the peer sent CERTREQ (IKE_SEND_CERT_IFASKED) */
  IkeFragBuf *frag_rx;    /* a fragmented message being reassembled */
  gint64 keepalive_at;    /* next NAT keepalive; G_MAXINT64: none */
  gint64 last_rx;
  gint64 expire; /* half-open until then (responder) */
  IkeAuthMethod local_auth, remote_auth;
  IkeIdType remote_id_type;
  GBytes *remote_id;
  GArray *children; /* IkeChild */
  GArray *tasks;    /* IkeTask, in order */
  IkeCreate *create;
  gint64 rekey_at, expire_at;        /* IKE SA lifetime; G_MAXINT64: none */
  IkeSaHandle replaces, replaced_by; /* IKE rekey */
  guint quiet : 1;                   /* lost a rekey collision: no events */
  guint up_reported : 1;             /* IKE_UP went out */
  guint touched : 1;                 /* in the engine's touched list */
  gint64 timer_due;                  /* its entry in the engine's timer heap; G_MAXINT64: none */
};

/* ---- A received message, as handlers see it ---- */

/* One bit per payload type, for the table's required/optional sets. */
#define IKE_PBIT(type) (1u << ((type) -IKE_PAYLOAD_SA + 1))

typedef struct
{
  IkeEngine *engine;
  gint64 now;
  const IkeEnds *ends;
  IkeSa *sa; /* NULL in state NONE until the handler creates one */
  IkeMsg *msg;
  const IkeHeader *hdr;
  GBytes *plain;   /* the decrypted SK content, or NULL */
  IkeInner *inner; /* parsed from plain, or NULL for IKE_SA_INIT */
  guint32 present; /* IKE_PBIT of every payload type present */
} IkeRx;

typedef enum
{
  IKE_RX_NEXT, /* done: take the table's next state */
  IKE_RX_STAY, /* done, state unchanged */
  IKE_RX_DROP, /* ignored, nothing changed */
  IKE_RX_DEAD, /* the SA failed or ended; reported already */
} IkeRxResult;

typedef IkeRxResult (*IkeExchangeHandler) (IkeRx *rx);

/* ike-exchange.c: the table */
void ike_exchange_dispatch (IkeRx *rx, IkeSaState state);
const char *ike_sa_state_name (IkeSaState state);

/* ike-engine.c: outputs, SA table, logging */
void ike_engine_emit_send (IkeEngine *engine, const IkeEnds *ends, GBytes *data);
/* Takes what @event holds. */
void ike_engine_emit_event (IkeEngine *engine, IkeEvent *event);
/* Takes what @request holds. */
void ike_engine_emit_kernel (IkeEngine *engine, IkeKernelRequest *request);
void ike_engine_reject (IkeEngine *engine, const IkeEnds *ends, const char *format, ...)
    G_GNUC_PRINTF (3, 4);
IkeConfig *ike_engine_lookup (IkeEngine *engine, const IkeEnds *ends, const IkeIdentity *peer);
IkeSa *ike_engine_find_half_open (IkeEngine *engine, guint64 spi_i, const IkeEnds *ends);
void ike_engine_register_sa (IkeEngine *engine, IkeSa *sa);
/* @sa may have a new deadline: the engine recomputes it after the input.
 * Every lookup of an SA (by SPI or handle) touches it, so only code that
 * reaches an SA otherwise (ike_engine_foreach_sa) calls this itself. */
void ike_engine_touch (IkeEngine *engine, IkeSa *sa);
void ike_engine_register_half_open (IkeEngine *engine, IkeSa *sa, gboolean half_open);
guint ike_engine_half_open_max (IkeEngine *engine);
guint ike_engine_cookie_threshold (IkeEngine *engine);
gint64 ike_engine_half_open_timeout (IkeEngine *engine);
/* Cookie (RFC 7296 §2.6) for Ni | IPi | SPIi; verify accepts the previous
 * secret too, so a rotation does not reject cookies already handed out. */
GBytes *ike_engine_make_cookie (IkeEngine *engine, gint64 now, GBytes *ni, const IkeEnds *ends,
                                guint64 spi_i);
gboolean ike_engine_check_cookie (IkeEngine *engine, gint64 now, GBytes *ni, const IkeEnds *ends,
                                  guint64 spi_i, const IkeSlice *cookie);
gboolean ike_ends_equal (const struct sockaddr_storage *a, const struct sockaddr_storage *b);
char *ike_ends_describe (const struct sockaddr_storage *addr);
IkeSaHandle ike_engine_new_handle (IkeEngine *engine);
/* The "now" of the input being handled. */
gint64 ike_engine_now (IkeEngine *engine);
/* The wall-clock time of the input being handled; FALSE when the host
 * never set it. */
gboolean ike_engine_wall_time (IkeEngine *engine, gint64 *wall_us);
/* An input starts at @now. */
void ike_engine_begin (IkeEngine *engine, gint64 now);
/* The SA is DEAD: unlink it now, free it when the current input returns. */
void ike_engine_bury (IkeEngine *engine, IkeSa *sa);
void ike_engine_count_sa (IkeEngine *engine, IkeSa *sa, gboolean live);
guint ike_engine_live_sas (IkeEngine *engine, IkeConfig *config);
/* The address bytes (4 or 16) and port of @addr; NULL for other families. */
const guint8 *ike_addr_bytes (const struct sockaddr_storage *addr, gsize *len, guint16 *port);

/* ike-config.c: a config the engine can use in @initiator's role */
gboolean ike_config_check (const IkeConfig *config, GError **error);
/* Soft lifetime less a random share of up to config->jitter percent;
 * G_MAXINT64 for none. */
gint64 ike_config_rekey_time (const IkeConfig *config, gint64 now, gint64 soft);
IkeSa *ike_engine_find_handle (IkeEngine *engine, IkeSaHandle handle);
/* Calls @func for every live IKE SA (it may end them).  A @func that
 * changes an SA calls ike_engine_touch on it. */
void ike_engine_foreach_sa (IkeEngine *engine, void (*func) (IkeSa *sa, gpointer data),
                            gpointer data);
/* Responder SAs by the initiator's SPI from IKE_SA_INIT, half-open or not. */
IkeSa *ike_engine_find_by_spi_i (IkeEngine *engine, guint64 spi_i, const IkeEnds *ends);
void ike_engine_register_spi_i (IkeEngine *engine, IkeSa *sa);
void ike_engine_sweep (IkeEngine *engine);

/* ike-timers.c: the SAs' deadlines in a lazy min-heap.  next and take_due
 * first recompute the deadlines of the SAs touched since; @by_handle is
 * the engine's table of live SAs. */
typedef struct _IkeTimers IkeTimers;
IkeTimers *ike_timers_new (void);
void ike_timers_free (IkeTimers *timers);
void ike_timers_touch (IkeTimers *timers, IkeSa *sa);
gint64 ike_timers_next (IkeTimers *timers, GHashTable *by_handle);
void ike_timers_take_due (IkeTimers *timers, GHashTable *by_handle, gint64 now, GPtrArray *due);
/* The SA a message names by our SPI, in the role its flags imply. */
IkeSa *ike_engine_find_sa (IkeEngine *engine, const IkeHeader *hdr);
/* Sends every datagram of a message (one, or its fragments). */
void ike_engine_emit_packets (IkeEngine *engine, const IkeEnds *ends, GPtrArray *packets);

/* ike-sa.c: lifetime, message IDs, retransmission, failure */
IkeSa *ike_sa_new (IkeEngine *engine, gboolean initiator, const IkeEnds *ends, GError **error);
void ike_sa_free (IkeSa *sa);
void ike_sa_handshake_free (IkeSa *sa);
void ike_sa_set_config (IkeSa *sa, IkeConfig *config);
/* SK_d as an NSS key for one derivation; free it after. */
PK11SymKey *ike_sa_sk_d (IkeSa *sa, GError **error);
/* Sends a request and keeps it for retransmission. */
void ike_sa_send_request (IkeSa *sa, gint64 now, IkeRequestKind kind, GBytes *msg);
/* Seals @inner (consumed) into a request with the next message ID. */
gboolean ike_sa_request (IkeSa *sa, gint64 now, IkeRequestKind kind, guint8 exchange,
                         IkeInnerBuilder *inner);
/* Seals @inner (consumed) into the response to @rx and caches it. */
gboolean ike_sa_respond (IkeSa *sa, IkeRx *rx, IkeInnerBuilder *inner);
/* A response that carries one notify, nothing else. */
gboolean ike_sa_respond_notify (IkeSa *sa, IkeRx *rx, guint16 notify);
gboolean ike_sa_respond_notify_data (IkeSa *sa, IkeRx *rx, guint16 notify, GBytes *data);
void ike_sa_request_done (IkeSa *sa);
gint64 ike_sa_deadline (IkeSa *sa);
void ike_sa_tick (IkeSa *sa, gint64 now);
/* Reports the end of the SA (FAILED before it was up, DOWN after: Child SAs
 * removed first) and marks it DEAD. */
void ike_sa_fail (IkeSa *sa, const char *reason, guint16 notify, gboolean from_peer);
void ike_sa_end (IkeSa *sa, const char *reason, guint16 notify, gboolean from_peer,
                 gboolean peer_gone);
void ike_sa_event_init (IkeSa *sa, IkeEvent *event, IkeEventKind kind);
/* Responder after AUTHENTICATION_FAILED: reported, but kept until the
 * half-open timeout to replay its answer to a retransmitted request. */
void ike_sa_tombstone (IkeSa *sa, const char *reason, guint16 notify);
/* Copies what the peer proved, the config and the ends to a rekeyed SA. */
void ike_sa_inherit (IkeSa *sa, IkeSa *old);
void ike_sa_report_up (IkeSa *sa);
/* Header for a message of this SA; flags from our role. */
void ike_sa_header (IkeSa *sa, IkeHeader *hdr, guint8 exchange, gboolean response, guint32 mid);

/* ike-protect.c: SK.  Seal returns the datagrams (GBytes) to send: one SK
 * message, or its SKF fragments when it is too big and the peer reassembles. */
GPtrArray *ike_protect_seal (IkeSa *sa, const IkeHeader *hdr, IkeInnerBuilder *inner,
                             GError **error);
gboolean ike_protect_open (IkeSa *sa, IkeRx *rx, GError **error);
GBytes *ike_protect_fill (IkeSa *sa, IkeMsgBuilder *builder, guint8 *body, gsize body_len,
                          const guint8 *plain, gsize len, GError **error);
/* One datagram as a message's list of datagrams. */
GPtrArray *ike_packets_new (GBytes *msg);

/* ike-frag.c: RFC 7383 fragments */
#define IKE_FRAG_MAX 32 /* Total Fragments we send or reassemble, at most */
/* The largest message we send whole to @remote (IP, UDP and non-ESP marker
 * subtracted from the config's datagram size). */
gsize ike_frag_limit (const IkeConfig *config, const struct sockaddr_storage *remote);
/* Seals @plain (first payload @first) into SKF fragments of at most @limit
 * bytes each. */
GPtrArray *ike_frag_seal (IkeSa *sa, const IkeHeader *hdr, GBytes *plain, guint8 first, gsize limit,
                          GError **error);
/* An SKF message: opened (authenticated) and kept.  TRUE with *complete when
 * it was the last missing one (rx->plain and rx->inner then hold the whole
 * message); TRUE without when it is kept or ignored (duplicate, smaller
 * Total); FALSE with @error when it fails authentication or parsing. */
gboolean ike_frag_receive (IkeSa *sa, IkeRx *rx, gboolean *complete, GError **error);
void ike_frag_clear (IkeSa *sa);
/* When an unfinished reassembly is dropped; G_MAXINT64: none. */
gint64 ike_frag_deadline (IkeSa *sa);
void ike_frag_tick (IkeSa *sa, gint64 now);

/* Payload lookup in whichever part of the message holds it. */
const IkePayload *ike_rx_find (IkeRx *rx, IkePayloadType type);
const IkePayloadNotify *ike_rx_notify (IkeRx *rx, guint16 type);
/* The first error notify (type < 16384), or NULL. */
const IkePayloadNotify *ike_rx_error_notify (IkeRx *rx);

/* ike-nat.c: NAT traversal after detection (ike-exch-init.c) */
/* Initiator, NAT detected: both ends to port IKE_NATT_PORT. */
void ike_nat_float (IkeSa *sa);
/* UDP encapsulation of a Child SA when there is a NAT. */
void ike_nat_encap (IkeSa *sa, IkeKernelRequest *k);
/* An authenticated message came from other ends: follow them if a NAT
 * explains it (TRUE), else refuse (FALSE). */
gboolean ike_nat_follow (IkeSa *sa, const IkeEnds *ends);
/* Behind a NAT and up: keepalives from now on. */
void ike_nat_start_keepalive (IkeSa *sa, gint64 now);
gint64 ike_nat_deadline (IkeSa *sa);
void ike_nat_tick (IkeSa *sa, gint64 now);

/* ike-exch-init.c */
void ike_suite_from_proposal (IkeSuite *suite, const IkeProposal *proposal);
gboolean ike_init_start (IkeSa *sa, gint64 now, GError **error);
IkeRxResult ike_init_handle_request (IkeRx *rx);
IkeRxResult ike_init_handle_response (IkeRx *rx);
IkeRxResult ike_init_handle_notify (IkeRx *rx);
/* Answer an IKE_SA_INIT request without keeping state (errors, cookies). */
void ike_init_respond_stateless (IkeRx *rx, guint16 notify, GBytes *data);

/* ike-exch-auth.c */
gboolean ike_auth_start (IkeSa *sa, gint64 now, GError **error);
IkeRxResult ike_auth_handle_request (IkeRx *rx);
IkeRxResult ike_auth_handle_response (IkeRx *rx);
IkeRxResult ike_auth_handle_error (IkeRx *rx);
/* Builds AUTH for us, or checks the peer's; ike-auth-method.c */
gboolean ike_auth_make (IkeSa *sa, const guint8 *id_body, gsize id_len, IkePayload *auth,
                        GBytes **data, GError **error);
/* @peer_key: the key the peer's signature must verify with (its
 * certificate's or the configured raw key); unused for PSK and NULL. */
gboolean ike_auth_check (IkeSa *sa, const guint8 *id_body, gsize id_len, const IkePayloadAuth *auth,
                         SECKEYPublicKey *peer_key, GError **error);

/* ike-cert.c: certificates (RFC 7296 §3.6, §3.7) */
#define IKE_CERT_MAX 4         /* CERT payloads we accept in one message */
#define IKE_CERT_MAX_LEN 16384 /* bytes of one certificate */
#define IKE_CERT_MAX_CAS 16    /* remote CAs per connection */
/* Adds our CERT payloads (end entity, then intermediates), if any. */
gboolean ike_cert_add (const IkeSa *sa, IkeInnerBuilder *inner, GError **error);
/* The CERTREQ payload asking for the config's remote CAs; NULL if none. */
GBytes *ike_cert_request_data (const IkeConfig *config, GError **error);
/* The peer's CERT payloads: decoded, chained to one of the config's CAs at
 * the engine's wall-clock time, and bound to identity @id.  Returns the
 * certificate's public key, for AUTH. */
SECKEYPublicKey *ike_cert_check_peer (IkeSa *sa, IkeRx *rx, const IkePayloadId *id, GError **error);
/* @cert names identity @type/@data (subject DN, or a subjectAltName). */
gboolean ike_cert_names_id (CERTCertificate *cert, guint8 type, const guint8 *data, gsize len,
                            GError **error);

/* ike-ts.c: traffic selectors */
guint ike_ts_config (IkeSa *sa, gboolean local, IkeTs *out);
/* The peer's selectors narrowed to ours: every non-empty intersection. */
guint ike_ts_narrow (const IkePayloadTs *peer, const IkeTs *ours, guint n_ours, IkeTs *out);
/* Initiator: each selector the responder chose lies within one we offered. */
gboolean ike_ts_within (const IkePayloadTs *got, const IkeTs *offered, guint n_offered, IkeTs *out);
gboolean ike_ts_add (IkeInnerBuilder *inner, IkePayloadType type, const IkeTs *ts, guint n,
                     GError **error);

/* ike-task.c: the queue of exchanges, lifetimes */
void ike_task_add (IkeSa *sa, IkeTaskKind kind, guint32 spi);
gboolean ike_task_pending (IkeSa *sa, IkeTaskKind kind, guint32 spi);
/* Starts the next task when nothing is in flight. */
void ike_task_kick (IkeSa *sa, gint64 now);
gint64 ike_task_deadline (IkeSa *sa);
/* Soft and hard lifetimes of the IKE SA and its children that are due. */
void ike_task_lifetimes (IkeSa *sa, gint64 now);
void ike_task_ike_lifetime (IkeSa *sa, gint64 now);
void ike_task_retry_later (IkeSa *sa, gint64 now, IkeTaskKind kind, guint32 spi);

/* ike-exch-child.c: CREATE_CHILD_SA for Child SAs */
gboolean ike_create_child_start (IkeSa *sa, gint64 now, IkeTaskKind kind, guint32 rekey_spi,
                                 GError **error);
IkeRxResult ike_create_child_handle_request (IkeRx *rx);
IkeRxResult ike_create_child_handle_response (IkeRx *rx);
IkeRxResult ike_create_handle_error (IkeRx *rx);
void ike_create_free (IkeCreate *create);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (IkeCreate, ike_create_free)
/* The lower of two nonces (§2.8.1 compares them as byte strings). */
GBytes *ike_nonce_low (GBytes *a, GBytes *b);
gint ike_nonce_compare (GBytes *a, GBytes *b);
/* CREATE_CHILD_SA requests we refuse while our own exchange is out. */
gboolean ike_create_busy (IkeRx *rx, gboolean ike_rekey);

/* ike-exch-rekey.c: CREATE_CHILD_SA rekeying the IKE SA */
gboolean ike_rekey_start (IkeSa *sa, gint64 now, GError **error);
IkeRxResult ike_rekey_handle_request (IkeRx *rx);
IkeRxResult ike_rekey_handle_response (IkeRx *rx);
/* Sends the rekey request of sa->create (again, after INVALID_KE). */
gboolean ike_rekey_resend (IkeSa *sa, gint64 now, GError **error);
void ike_rekey_failed (IkeSa *sa, IkeCreate *create, guint16 notify);

/* ike-child.c: the first Child SA */
gboolean ike_child_add_request (IkeSa *sa, IkeInnerBuilder *inner, GError **error);
/* Responder: adds SA/TS (or an error notify) to the response. */
gboolean ike_child_respond (IkeRx *rx, IkeInnerBuilder *inner, GError **error);
/* Initiator: reads the response's Child SA part. */
void ike_child_handle_response (IkeRx *rx);
/* Reports the first Child SA (KERNEL install and CHILD_UP, or CHILD_FAILED). */
void ike_child_commit (IkeSa *sa);
void ike_child_pending_free (IkeHandshake *hs);
void ike_child_remove_all (IkeSa *sa, const char *reason);
IkeChild *ike_child_find (IkeSa *sa, guint32 spi_in);
IkeChild *ike_child_find_out (IkeSa *sa, guint32 spi_out);
gboolean ike_child_random_spi (guint32 *spi, GError **error);
/* The first Child SA error notify in a response, or 0. */
guint16 ike_child_error_notify (IkeRx *rx);
/* Initiator: the Child SA part of a successful response against what we
 * offered; @k holds the mode and selectors offered, then what was agreed
 * (selectors, SPI out, suite). */
gboolean ike_child_read_reply (IkeRx *rx, const IkeProposal *offers, guint n_offers,
                               IkeKernelRequest *k, IkeProposal *chosen, const char **why);
/* Responder: proposal, selectors and mode into @k, or the refusing notify. */
guint16 ike_child_choose (IkeRx *rx, const IkeProposal *ours, guint n_ours, IkeProposal *chosen,
                          IkeKernelRequest *k);
/* Responder: SA (our SPI k->spi_in written into @chosen), TSi, TSr, mode. */
gboolean ike_child_add_nonce_ke (IkeInnerBuilder *inner, GBytes *nonce, IkeDh *dh, GError **error);
gboolean ike_child_add_reply (IkeInnerBuilder *inner, IkeProposal *chosen,
                              const IkeKernelRequest *k, GError **error);
/* Our ESP offers with our inbound SPI; KE kept only for PFS. */
void ike_child_esp_offers (IkeConfig *config, guint32 spi, gboolean with_ke, IkeProposal *out);
/* ESP keys from KEYMAT into @k; @exch_initiator: we started the exchange
 * whose nonces these are (the direction of encr_i, §2.17). */
gboolean ike_child_derive (IkeSa *sa, IkeKernelRequest *k, gboolean exch_initiator,
                           PK11SymKey *g_ir, GBytes *ni, GBytes *nr, GError **error);
/* KERNEL install and CHILD_UP; @replaces: the old child's inbound SPI or 0.
 * Takes @k. */
void ike_child_install (IkeSa *sa, IkeKernelRequest *k, guint32 replaces);
/* KERNEL remove and CHILD_DOWN for one child. */
void ike_child_remove (IkeSa *sa, guint32 spi_in, const char *reason, gboolean from_peer);
void ike_child_fail_event (IkeSa *sa, const char *reason, guint16 notify, gboolean from_peer);
/* A kernel request describing @child, for REMOVE. */
void ike_child_request (IkeSa *sa, const IkeChild *child, IkeKernelOp op, IkeKernelRequest *k);

/* ike-exch-info.c */
IkeRxResult ike_info_handle_request (IkeRx *rx);
IkeRxResult ike_info_handle_response (IkeRx *rx);
void ike_info_start_dpd (IkeSa *sa, gint64 now);
gboolean ike_info_start_delete (IkeSa *sa, gint64 now, GError **error);
void ike_info_send_auth_failed (IkeSa *sa, gint64 now);
gboolean ike_info_start_delete_child (IkeSa *sa, gint64 now, guint32 spi_in, GError **error);
/* INITIAL_CONTACT (§2.4): ends the peer's other IKE SAs, which it forgot. */
void ike_info_initial_contact (IkeSa *sa);

G_END_DECLS
