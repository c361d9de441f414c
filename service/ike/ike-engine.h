/* The IKEv2 engine (RFC 7296): IKE SAs, the exchange table, message IDs,
 * retransmission, and the first Child SA.  The one public header of the
 * engine; the codec, crypto and proposal headers are its building blocks.
 *
 * Sans-I/O (DESIGN.md §4).  The engine never opens a socket, reads a clock or
 * touches the kernel, and starts no thread.  Everything comes in as a call:
 *
 *   ike_engine_receive   a datagram (IKE message without the NAT-T marker)
 *                        with the local and remote address and port it used
 *   ike_engine_initiate  start an IKE SA (and its first Child SA) for a config
 *   ike_engine_delete    delete an IKE SA (and with it its Child SAs)
 *   ike_engine_create_child, ike_engine_rekey_child, ike_engine_rekey_ike,
 *   ike_engine_delete_child  CREATE_CHILD_SA and Delete on an IKE SA that is up
 *   ike_engine_child_expired the kernel's soft or hard EXPIRE of a Child SA
 *   ike_engine_tick      the deadline from ike_engine_next_deadline passed
 *
 * each with "now", monotonic microseconds chosen by the caller (the daemon
 * passes g_get_monotonic_time (), tests a fake clock).  Everything goes out
 * through one queue, drained with ike_engine_next_output after each call:
 *
 *   IKE_OUTPUT_SEND    bytes to send from ends.local to ends.remote; from a
 *                      local port of 4500 (IKE_NATT_PORT) the host puts the
 *                      non-ESP marker in front (ike_natt_add_marker), except
 *                      for the one-byte NAT keepalive 0xff, sent as it is
 *   IKE_OUTPUT_EVENT   IKE SA up / failed / down, Child SA up / failed / down,
 *                      with the reason, the notify that caused it and what
 *                      was negotiated
 *   IKE_OUTPUT_KERNEL  install or remove a Child SA (ESP), keys included
 *
 * Child SA SPIs are drawn by the engine from NSS's random generator rather
 * than asked of the kernel (XFRM_MSG_ALLOCSPI): the exchange stays a pure
 * function of its inputs, and the kernel layer installs each SA with the SPI
 * given.  A clash with an SA the kernel already holds makes the install
 * fail, which the host reports like any other install failure (2^-32 per
 * existing SA).
 *
 * The responder finds the configuration for a peer through a lookup callback
 * the host supplies (in memory, never I/O): called with the endpoints when an
 * IKE_SA_INIT arrives, and again with the peer's identity in IKE_AUTH. */
#pragma once

#include <cert.h>
#include <glib.h>
#include <keyhi.h>
#include <sys/socket.h>

#include "ike-crypto.h"
#include "ike-msg.h"
#include "ike-proposal.h"
#include "ike-types.h"

G_BEGIN_DECLS

#define IKE_ENGINE_ERROR (ike_engine_error_quark ())
GQuark ike_engine_error_quark (void);

typedef enum
{
  IKE_ENGINE_ERROR_INVALID, /* a configuration or argument that cannot work */
  IKE_ENGINE_ERROR_WEAK,    /* a PSK refused as guessable */
  IKE_ENGINE_ERROR_NOT_FOUND,
  IKE_ENGINE_ERROR_FAILED,
} IkeEngineError;

/* The two ends of an IKE SA, ports included. */
typedef struct
{
  struct sockaddr_storage local;
  struct sockaddr_storage remote;
} IkeEnds;

/* An identity as it travels in IDi/IDr: type and data (empty for ID_NULL). */
typedef struct
{
  IkeIdType type;
  const guint8 *data;
  gsize len;
} IkeIdentity;

typedef enum
{
  IKE_MODE_TUNNEL,
  IKE_MODE_TRANSPORT,
} IkeMode;

/* What the host does when the peer is found dead (DPD or retransmit limit on
 * an established SA): the engine only reports it in the event. */
typedef enum
{
  IKE_PEER_GONE_CLEAR,   /* forget the SA */
  IKE_PEER_GONE_RESTART, /* initiate again at once */
  IKE_PEER_GONE_HOLD,    /* put a trap back: initiate on the next packet */
} IkePeerGoneAction;

/* The algorithms one SA uses: one transform of each type (0 where none). */
typedef struct
{
  guint16 encr;     /* IkeEncrId */
  guint16 key_bits; /* the Key Length attribute, 0 when absent */
  guint16 integ;    /* IkeIntegId, IKE_INTEG_NONE with AEAD */
  guint16 prf;      /* IkePrfId; IKE SAs only */
  guint16 ke;       /* IkeKeId; IKE SAs, or a Child SA with PFS */
  guint16 esn;      /* IkeEsnId; Child SAs only */
} IkeSuite;

/* ---- Configuration of one connection (ref-counted; immutable in use) ---- */

#define IKE_CONFIG_MAX_TS 4

typedef struct _IkeConfig IkeConfig;

/* Defaults: PSK-less, so auth must be set on both sides; default IKE and ESP
 * proposals of ike-proposal.h; a first Child SA in tunnel mode between the
 * two addresses; retransmit after 500 ms doubling, 5 retransmits; no DPD;
 * peer-gone action CLEAR.  Set everything before handing the config to an
 * engine, which takes a reference and never changes it. */
IkeConfig *ike_config_new (const char *name);
IkeConfig *ike_config_ref (IkeConfig *config);
void ike_config_unref (IkeConfig *config);
const char *ike_config_get_name (const IkeConfig *config);

/* How we prove ourselves and how the peer must prove itself, independently
 * (RFC 7296 §2.15 allows asymmetric authentication): IKE_AUTH_SHARED_KEY,
 * IKE_AUTH_NULL (RFC 7619) or IKE_AUTH_DIGITAL_SIGNATURE (RFC 7427).  The
 * identity is what we send as IDi/IDr; for the remote side it is what the
 * peer must send (type 0: any identity).  NULL authentication goes with
 * ID_NULL unless another identity is given. */
gboolean ike_config_set_local_auth (IkeConfig *config, IkeAuthMethod method, const IkeIdentity *id,
                                    GError **error);
gboolean ike_config_set_remote_auth (IkeConfig *config, IkeAuthMethod method, const IkeIdentity *id,
                                     GError **error);
/* The pre-shared key for whichever side uses IKE_AUTH_SHARED_KEY.  A weak key
 * (ike_psk_check_strength) is refused here, so it is never used. */
gboolean ike_config_set_psk (IkeConfig *config, const guint8 *psk, gsize len, GError **error);
/* Our signing key (copied) for IKE_AUTH_DIGITAL_SIGNATURE. */
gboolean ike_config_set_private_key (IkeConfig *config, SECKEYPrivateKey *key, GError **error);
/* The peer's raw public key (copied; RFC 7670 style, from configuration or
 * DNS), checked by ike_sign_check_public_key. */
gboolean ike_config_set_peer_public_key (IkeConfig *config, SECKEYPublicKey *key, GError **error);
/* Certificates (RFC 7296 §3.6, §3.7), X.509 only.  Ours: @cert goes out
 * in a CERT payload (encoding 4) in every IKE_AUTH we send, whether or not
 * the peer asked with CERTREQ (peers expect it and a missing CERT fails
 * hard, an unasked one costs a few bytes) unless ike_config_set_send_cert
 * says otherwise, and we sign with @key, which must
 * be @cert's (both referenced or copied).  This sets the private key as
 * ike_config_set_private_key does; the local identity stays what
 * ike_config_set_local_auth says and should be one @cert names (the subject
 * DN or a subjectAltName): the peer refuses any other.  That is the
 * peer's check, not repeated here.  Intermediate
 * certificates follow in further CERT payloads, in the order added. */
gboolean ike_config_set_local_certificate (IkeConfig *config, CERTCertificate *cert,
                                           SECKEYPrivateKey *key, GError **error);
gboolean ike_config_add_local_intermediate (IkeConfig *config, CERTCertificate *cert,
                                            GError **error);
/* A CA the peer's certificate must chain to (several may be set; each is a
 * trust anchor for this connection only, never the system store).  With a
 * remote CA, IKE_AUTH_DIGITAL_SIGNATURE for the peer needs no public key:
 * the peer's CERT brings it.  We ask for it with CERTREQ (the CAs' SHA-1
 * SubjectPublicKeyInfo hashes) in our IKE_SA_INIT response (responder) or
 * IKE_AUTH request (initiator).  The peer's identity must be its
 * certificate's subject DN (ID_DER_ASN1_DN) or a subjectAltName entry
 * (ID_FQDN, ID_RFC822_ADDR, ID_IPV4_ADDR, ID_IPV6_ADDR).  Validity is
 * checked against the wall-clock time from ike_engine_set_wall_clock. */
gboolean ike_config_set_remote_ca (IkeConfig *config, CERTCertificate *ca, GError **error);
/* When our CERT payloads go out (RFC 7296 §3.6 leaves it to us): ALWAYS,
 * in every IKE_AUTH we send (the default); IFASKED, only when the peer sent
 * a CERTREQ (in its IKE_SA_INIT response, or with its IKE_AUTH request), as
 * strongSwan and libreswan do by default; NEVER, the peer has it already
 * (it pinned our certificate or key). */
/* Whether identities @a and @b, both of @type, are the same: their bytes,
 * except that distinguished names (ID_DER_ASN1_DN) compare as names (RFC
 * 5280 §7.1 as NSS does it: a PrintableString and a UTF8String of the same
 * text are equal), since a DN written in a configuration and the one in the
 * peer's certificate may be encoded differently. */
gboolean ike_identity_equal (guint8 type, const guint8 *a, gsize a_len, const guint8 *b,
                             gsize b_len);
typedef enum
{
  IKE_SEND_CERT_ALWAYS,
  IKE_SEND_CERT_IFASKED,
  IKE_SEND_CERT_NEVER,
} IkeSendCert;
void ike_config_set_send_cert (IkeConfig *config, IkeSendCert when);
void ike_config_set_proposals (IkeConfig *config, const IkeProposalList *ike,
                               const IkeProposalList *esp);
/* Childless IKE SA (RFC 6023): no Child SA in IKE_AUTH. */
void ike_config_set_childless (IkeConfig *config, gboolean childless);
void ike_config_set_mode (IkeConfig *config, IkeMode mode);
/* With transport mode: a responder that answers in tunnel mode is accepted
 * (RFC 7296 §1.3.1 leaves it to the initiator), e.g. for a host-to-host
 * opportunistic SA, where both protect the same packets.  Off by default:
 * a configured transport mode is never silently a tunnel. */
void ike_config_set_accept_tunnel (IkeConfig *config, gboolean accept);
/* Our side's and the peer's selectors (at most IKE_CONFIG_MAX_TS each); none
 * means the address of that end, all protocols and ports. */
gboolean ike_config_add_ts (IkeConfig *config, gboolean local, const IkeTs *ts, GError **error);
/* First retransmission after @base_us, doubling; fail after @limit of them. */
void ike_config_set_retransmit (IkeConfig *config, gint64 base_us, guint limit);
/* Liveness check after @delay_us without a message from the peer (0: off). */
void ike_config_set_dpd (IkeConfig *config, gint64 delay_us, IkePeerGoneAction action);
/* Lifetimes: rekey after @soft_us, delete after @hard_us (0: never), counted
 * from when the SA came up.  The soft lifetime is shortened by a random share
 * of up to @jitter percent (ike_config_set_lifetime_jitter), drawn per SA, so
 * that both ends rarely rekey at once.  Defaults: IKE SA 4 h / 4 h 30 min,
 * Child SA 1 h / 1 h 10 min, jitter 10 %.  Soft must be below hard. */
gboolean ike_config_set_ike_lifetime (IkeConfig *config, gint64 soft_us, gint64 hard_us,
                                      GError **error);
gboolean ike_config_set_child_lifetime (IkeConfig *config, gint64 soft_us, gint64 hard_us,
                                        GError **error);
void ike_config_set_lifetime_jitter (IkeConfig *config, guint percent);
/* IKE fragmentation (RFC 7383), on by default: announced in IKE_SA_INIT, and
 * when the peer announced it too, a protected message (IKE_AUTH onward) that
 * would make an IP datagram over @max_datagram bytes goes out as SKF
 * fragments, each within it.  @max_datagram counts the IP and UDP headers and
 * the non-ESP marker; 0 takes RFC 7383 §2.5.1's sizes every path carries:
 * 1280 over IPv6, 576 over IPv4.  At least 256 and at most 65535; @enable
 * FALSE neither announces nor sends fragments. */
gboolean ike_config_set_fragmentation (IkeConfig *config, gboolean enable, guint max_datagram,
                                       GError **error);
/* NAT traversal (RFC 7296 §2.23, RFC 3948).  When IKE_SA_INIT shows a NAT,
 * the initiator moves to port IKE_NATT_PORT on both ends for IKE_AUTH
 * onward, and Child SAs are installed with UDP encapsulation.  While we are
 * behind the NAT, a NAT keepalive (one byte 0xff, RFC 3948 §2.3) goes out
 * every @interval_us on the SA's ends (default 20 s; 0: none) to keep the
 * mapping open.  The host sends it as it is on its 4500 socket. */
void ike_config_set_nat_keepalive (IkeConfig *config, gint64 interval_us);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IkeConfig, ike_config_unref)

/* Other NSS users may define the same cleanups; whoever comes first defines
 * them under this guard. */
#ifndef IKE_NSS_CERT_AUTOPTR_DEFINED
#define IKE_NSS_CERT_AUTOPTR_DEFINED
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CERTCertificate, CERT_DestroyCertificate)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CERTCertList, CERT_DestroyCertList)
#endif

#define IKE_NATT_PORT 4500

/* ---- Outputs ---- */

typedef guint64 IkeSaHandle; /* 0 is never a handle */

typedef enum
{
  IKE_OUTPUT_SEND,
  IKE_OUTPUT_EVENT,
  IKE_OUTPUT_KERNEL,
} IkeOutputKind;

typedef enum
{
  IKE_EVENT_IKE_UP,
  IKE_EVENT_IKE_FAILED, /* never came up */
  IKE_EVENT_IKE_DOWN,   /* was up: deleted, or the peer is gone */
  IKE_EVENT_CHILD_UP,
  IKE_EVENT_CHILD_FAILED, /* the IKE SA may still be up (childless) */
  IKE_EVENT_CHILD_DOWN,
  /* The peer behind a NAT now sends from other ends (a new mapping): the
   * IKE SA follows, and the host moves its Child SAs to event.ends (the
   * UDP encapsulation ports included). */
  IKE_EVENT_IKE_MOVED,
} IkeEventKind;

typedef struct
{
  IkeEventKind kind;
  IkeSaHandle sa;
  char *config;              /* the config's name, NULL before one was found */
  char *reason;              /* for people; NULL on success */
  guint16 notify;            /* IkeNotifyType that caused it, 0 if none */
  gboolean notify_from_peer; /* the peer sent it (else: we did) */
  gboolean peer_gone;        /* DOWN because the peer stopped answering */
  IkePeerGoneAction action;  /* with peer_gone: what the config says to do */
  /* IKE_UP */
  gboolean initiator;
  IkeSuite ike;
  IkeAuthMethod local_auth, remote_auth;
  IkeIdType local_id_type, remote_id_type;
  GBytes *local_id, *remote_id;
  gboolean authenticated;         /* the peer proved an identity (not NULL auth) */
  gboolean nat_local, nat_remote; /* a NAT in front of us / of the peer */
  /* CHILD_* */
  guint32 spi_in, spi_out; /* host order */
  IkeSuite esp;
  IkeMode mode;
  /* Rekeying.  IKE_UP of a rekeyed IKE SA names the SA it replaces, whose
   * Child SAs now belong to it; the old SA's IKE_DOWN names its successor
   * (and removes no Child SA).  CHILD_UP of a rekeyed Child SA names the
   * inbound SPI of the one it replaces, that one's CHILD_DOWN the new one. */
  IkeSaHandle ike_replaces, ike_replaced_by;
  guint32 child_replaces, child_replaced_by;
  IkeEnds ends; /* IKE_MOVED: the IKE SA's ends now */
} IkeEvent;

typedef enum
{
  IKE_KERNEL_INSTALL,
  IKE_KERNEL_REMOVE,
} IkeKernelOp;

/* One Child SA, both directions.  Keys only for INSTALL; the host installs,
 * then clears the output (which wipes them). */
typedef struct
{
  IkeKernelOp op;
  IkeSaHandle sa;
  IkeEnds ends;
  guint8 protocol; /* IKE_PROTO_ESP */
  IkeMode mode;
  guint32 spi_in, spi_out; /* host order */
  IkeSuite esp;
  guint n_ts_local, n_ts_remote;
  IkeTs ts_local[IKE_CONFIG_MAX_TS];
  IkeTs ts_remote[IKE_CONFIG_MAX_TS];
  IkeSecret *encr_in, *integ_in; /* integ NULL with AEAD */
  IkeSecret *encr_out, *integ_out;
  /* ESP in UDP (RFC 3948) because of a NAT: from encap_sport on our side
   * to encap_dport on the peer's (host order; those of ends). */
  gboolean udp_encap;
  guint16 encap_sport, encap_dport;
} IkeKernelRequest;

typedef struct
{
  IkeOutputKind kind;
  IkeEnds ends; /* SEND */
  GBytes *data; /* SEND */
  IkeEvent event;
  IkeKernelRequest kernel;
} IkeOutput;

/* Frees what an output holds and wipes its keys. */
void ike_output_clear (IkeOutput *output);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (IkeOutput, ike_output_clear)

/* ---- The engine ---- */

typedef struct _IkeEngine IkeEngine;

/* Returns a new reference, or NULL to refuse.  @peer is NULL when called for
 * an IKE_SA_INIT request, the peer's IDi in IKE_AUTH. */
typedef IkeConfig *(*IkeConfigLookupFunc) (const IkeEnds *ends, const IkeIdentity *peer,
                                           gpointer user_data);

IkeEngine *ike_engine_new (IkeConfigLookupFunc lookup, gpointer user_data, GError **error);
void ike_engine_free (IkeEngine *engine);

/* Half-open SAs (responder, waiting for IKE_AUTH): at @cookie_threshold of
 * them new peers must return a COOKIE (0: always); never more than @max;
 * each expires after @timeout_us.  Defaults 16, 4096, 30 s. */
void ike_engine_set_half_open (IkeEngine *engine, guint cookie_threshold, guint max,
                               gint64 timeout_us);

/* Certificates are valid or not at a wall-clock time, which the engine
 * never reads: the host says that at monotonic @now the wall clock read
 * @wall_us (microseconds since the Unix epoch, g_get_real_time ()), and the
 * engine adds the difference to the "now" of later inputs.  Call it once
 * at start and again whenever the wall clock may have been stepped (the
 * daemon: before each input; it is cheap).  Until it is called, every
 * certificate is refused ("no wall-clock time"). */
void ike_engine_set_wall_clock (IkeEngine *engine, gint64 now, gint64 wall_us);

void ike_engine_receive (IkeEngine *engine, gint64 now, const IkeEnds *ends, const guint8 *data,
                         gsize len);
gboolean ike_engine_initiate (IkeEngine *engine, gint64 now, IkeConfig *config, const IkeEnds *ends,
                              IkeSaHandle *handle, GError **error);
/* Deletes the IKE SA and its Child SAs (INFORMATIONAL with Delete). */
gboolean ike_engine_delete (IkeEngine *engine, gint64 now, IkeSaHandle handle, GError **error);
/* On an established IKE SA, queued behind the exchange in flight (window 1):
 * a new Child SA with the config's proposals and selectors (PFS when the ESP
 * proposal has a group); a rekey of the Child SA whose inbound SPI is
 * @spi_in (the new one is installed before the old is removed); a rekey of
 * the IKE SA (a new handle takes over, see IkeEvent); the Delete of one Child
 * SA (removed from the kernel at once). */
gboolean ike_engine_create_child (IkeEngine *engine, gint64 now, IkeSaHandle handle,
                                  GError **error);
gboolean ike_engine_rekey_child (IkeEngine *engine, gint64 now, IkeSaHandle handle, guint32 spi_in,
                                 GError **error);
gboolean ike_engine_rekey_ike (IkeEngine *engine, gint64 now, IkeSaHandle handle, GError **error);
gboolean ike_engine_delete_child (IkeEngine *engine, gint64 now, IkeSaHandle handle, guint32 spi_in,
                                  GError **error);
/* The kernel's EXPIRE for the Child SA with inbound or outbound SPI @spi:
 * soft rekeys it, hard deletes it.  FALSE when no Child SA has that SPI. */
gboolean ike_engine_child_expired (IkeEngine *engine, gint64 now, guint32 spi, gboolean hard);
void ike_engine_tick (IkeEngine *engine, gint64 now);
/* G_MAXINT64 when nothing is pending. */
gint64 ike_engine_next_deadline (IkeEngine *engine);
/* Moves the oldest output into @out (to be cleared by the caller). */
gboolean ike_engine_next_output (IkeEngine *engine, IkeOutput *out);
guint ike_engine_count_sas (IkeEngine *engine);
/* Responder SAs waiting for IKE_AUTH. */
guint ike_engine_count_half_open (IkeEngine *engine);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IkeEngine, ike_engine_free)

G_END_DECLS
