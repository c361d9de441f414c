/* The IKEv2 message codec (RFC 7296 §3, RFC 7383 fragments): parse a datagram
 * into payloads, and build payloads into a datagram.  Sans-I/O.
 *
 * Validate, then parse.  A message is walked once checking every length and
 * count (payload lengths, body sizes per payload type, proposals, transforms,
 * selectors, attributes) before any structure is built; the first problem
 * stops the walk with an IkeMsgFault that says which payload, at which byte
 * offset, and which notify the engine should answer with.  Parsed payloads
 * point into the received bytes (IkeSlice): the message owns them.
 *
 * Encrypted-only payloads by construction.  A datagram parses into an IkeMsg,
 * whose payloads can only be the ones RFC 7296 lets travel in cleartext: SA,
 * KE, Nonce, Notify, Vendor ID, CERTREQ, and a final SK or SKF.  Any other
 * payload outside SK (IDi, IDr, CERT, AUTH, TSi, TSr, CP, EAP, Delete) fails
 * the parse with INVALID_SYNTAX.  The decrypted SK content parses into a
 * different type, IkeInner, which is the only source of those payloads.  So
 * code that needs an AUTH must hold an IkeInner, which exists only after the
 * crypto code has opened SK: a plaintext AUTH cannot reach it.  The builders
 * mirror this: IkeMsgBuilder accepts only cleartext payloads, the encrypted
 * ones go into an IkeInnerBuilder whose bytes the crypto code seals into SK.
 *
 * Building: ike_msg_builder_new (header) → add payloads (the next-payload
 * chain is kept for the caller) → either free_to_bytes, or reserve an SK/SKF
 * body, let the crypto code seal into it, then free_to_bytes.  Every payload
 * the builder writes is checked by the same validator the parser uses, so
 * what we build always parses, and build → parse → build is byte-identical.
 */
#pragma once

#include <glib.h>

#include "ike-types.h"

G_BEGIN_DECLS

/* ---- Limits: what a peer can make us hold ----
 * Parsing copies nothing from the datagram (slices point into it); what it
 * allocates is bounded by these counts: at most IKE_MSG_MAX_PAYLOADS
 * payloads, IKE_MAX_PROPOSALS × IKE_MAX_TRANSFORMS per SA, 255 selectors
 * per TS, IKE_MAX_CFG_ATTRS per CP.  Beyond a cap is INVALID_SYNTAX, never
 * silent truncation. */

#define IKE_MSG_MAX_LEN 65535 /* UDP and RFC 9329 TCP frames carry no more */
#define IKE_MSG_MAX_PAYLOADS 128
#define IKE_MAX_CFG_ATTRS 64
#define IKE_NONCE_MIN_LEN 16 /* RFC 7296 §3.9 */
#define IKE_NONCE_MAX_LEN 256
#define IKE_NAT_DETECTION_LEN 20 /* SHA-1, RFC 7296 §2.23 */
#define IKE_COOKIE_MAX_LEN 64    /* RFC 7296 §2.6 */
#define IKE_SK_HEADER_LEN IKE_PAYLOAD_HEADER_LEN
#define IKE_SKF_HEADER_LEN (IKE_PAYLOAD_HEADER_LEN + 4) /* + Fragment Number, Total */

/* ---- Errors ---- */

#define IKE_MSG_ERROR (ike_msg_error_quark ())
GQuark ike_msg_error_quark (void);

typedef enum
{
  IKE_MSG_ERROR_DROP,          /* not an IKEv2 message we can answer (short, IKEv1) */
  IKE_MSG_ERROR_SYNTAX,        /* answer INVALID_SYNTAX */
  IKE_MSG_ERROR_CRITICAL,      /* answer UNSUPPORTED_CRITICAL_PAYLOAD */
  IKE_MSG_ERROR_MAJOR_VERSION, /* answer INVALID_MAJOR_VERSION */
  IKE_MSG_ERROR_TOO_BIG,       /* building: over 64 KiB or a 16-bit length */
} IkeMsgError;

/* Where a parse failed and how to answer it.  Filled alongside the GError. */
typedef struct
{
  guint16 notify;     /* IkeNotifyType to answer with; 0: drop without answer */
  guint8 notify_data; /* UNSUPPORTED_CRITICAL_PAYLOAD: the one-octet payload type */
  guint8 payload;     /* payload type being examined; 0 while in the IKE header */
  guint index;        /* its position in the chain, from 0 */
  gsize offset;       /* bytes from the start of the message (IkeMsg) or plaintext (IkeInner) */
} IkeMsgFault;

/* ---- Header (RFC 7296 §3.1) ---- */

typedef struct
{
  guint64 spi_i; /* as read big-endian from the wire */
  guint64 spi_r;
  guint8 next_payload; /* parsed only: the builder fills it */
  guint8 version;      /* 0x20; the builder writes IKE_VERSION when 0 */
  guint8 exchange;     /* IkeExchangeType */
  guint8 flags;        /* IKE_FLAG_*; other bits are ignored both ways */
  guint32 message_id;
  guint32 length; /* parsed only: the builder fills it */
} IkeHeader;

/* Checks the header alone: 28..64 KiB, major version 2, Length field = len.
 * *header is filled whenever @len ≥ 28, even on failure, so the engine has
 * the SPIs and message ID to answer a fault (from here or ike_msg_parse). */
gboolean ike_header_parse (const guint8 *data, gsize len, IkeHeader *header, IkeMsgFault *fault,
                           GError **error);

/* ---- Payloads ---- */

typedef struct
{
  const guint8 *data;
  gsize len;
} IkeSlice;

typedef struct
{
  guint n_proposals;
  const IkeProposal *proposals;
} IkePayloadSa;

typedef struct
{
  guint16 group; /* IkeKeId */
  IkeSlice data;
} IkePayloadKe;

typedef struct /* IDi and IDr */
{
  guint8 type; /* IkeIdType */
  IkeSlice data;
} IkePayloadId;

typedef struct /* CERT and CERTREQ */
{
  guint8 encoding; /* IkeCertEncoding */
  IkeSlice data;
} IkePayloadCert;

typedef struct
{
  guint8 method; /* IkeAuthMethod */
  IkeSlice data;
} IkePayloadAuth;

typedef struct
{
  guint8 protocol; /* IkeProtocolId, 0 when there is no SPI */
  IkeSlice spi;
  guint16 type; /* IkeNotifyType */
  IkeSlice data;
} IkePayloadNotify;

typedef struct
{
  guint8 protocol; /* IKE: no SPIs; ESP/AH: 4-byte SPIs */
  guint8 spi_len;
  guint16 n_spis;
  IkeSlice spis; /* n_spis × spi_len bytes */
} IkePayloadDelete;

/* One traffic selector.  IPv4 ranges use the first 4 bytes of start/end.
 * A selector type we do not know is kept whole: its second octet in
 * ip_proto and everything after its 4-byte header in opaque. */
typedef struct
{
  guint8 type;     /* IkeTsType */
  guint8 ip_proto; /* 0: any */
  guint16 start_port;
  guint16 end_port; /* 65535-0 is OPAQUE (RFC 7296 §3.13.1) */
  guint8 start[16];
  guint8 end[16];
  IkeSlice opaque;
} IkeTs;

typedef struct /* TSi and TSr */
{
  guint n_ts;
  const IkeTs *ts;
} IkePayloadTs;

typedef struct
{
  guint16 type; /* IkeCfgAttribute, without the reserved bit */
  IkeSlice value;
} IkeCfgAttr;

typedef struct
{
  guint8 type; /* IkeCfgType */
  guint n_attrs;
  const IkeCfgAttr *attrs;
} IkePayloadCp;

/* The EAP packet (RFC 3748 §4).  Success and Failure have no type. */
typedef struct
{
  guint8 code; /* 1 request, 2 response, 3 success, 4 failure */
  guint8 identifier;
  guint8 type;   /* 0 for success/failure */
  IkeSlice data; /* Type-Data */
} IkePayloadEap;

/* SK (RFC 7296 §3.14): the body (IV ‖ ciphertext ‖ ICV) stays opaque.  AEAD
 * (RFC 5282) authenticates the message's first aad_len bytes; with
 * encr+integ the ICV covers everything in the message before it. */
typedef struct
{
  guint8 first_inner; /* type of the first payload inside */
  gsize aad_len;      /* header through the SK generic payload header */
  IkeSlice body;
} IkePayloadSk;

/* SKF (RFC 7383 §2.5): one fragment of an SK; the AAD includes the
 * Fragment Number and Total Fragments fields. */
typedef struct
{
  guint8 first_inner; /* fragment 1: type of the first inner payload; else 0 */
  guint16 number;     /* 1 ≤ number ≤ total */
  guint16 total;
  gsize aad_len;
  IkeSlice body;
} IkePayloadSkf;

typedef struct
{
  guint8 type;      /* IkePayloadType; when skipped, the unknown type number */
  gboolean skipped; /* unknown type without the critical bit: body in u.raw */
  gsize offset;     /* parsed: where its generic header starts */
  union
  {
    IkePayloadSa sa;
    IkePayloadKe ke;
    IkePayloadId id;     /* IDi, IDr */
    IkePayloadCert cert; /* CERT, CERTREQ */
    IkePayloadAuth auth;
    IkeSlice nonce;
    IkePayloadNotify notify;
    IkePayloadDelete del;
    IkeSlice vendor;
    IkePayloadTs ts; /* TSi, TSr */
    IkePayloadSk sk;
    IkePayloadSkf skf;
    IkePayloadCp cp;
    IkePayloadEap eap;
    IkeSlice raw; /* skipped */
  } u;
} IkePayload;

/* TRUE for the payload types that may travel outside SK. */
gboolean ike_payload_type_is_cleartext (guint type);

/* ---- Parsed datagram: cleartext payloads only ---- */

typedef struct _IkeMsg IkeMsg;

/* Keeps a reference to @datagram (the IKE message, without a non-ESP marker). */
IkeMsg *ike_msg_parse (GBytes *datagram, IkeMsgFault *fault, GError **error);
void ike_msg_free (IkeMsg *msg);
const IkeHeader *ike_msg_get_header (const IkeMsg *msg);
GBytes *ike_msg_get_bytes (const IkeMsg *msg);
guint ike_msg_get_n_payloads (const IkeMsg *msg);
const IkePayload *ike_msg_get_payload (const IkeMsg *msg, guint index);
/* First payload of @type; @type must be a cleartext type. */
const IkePayload *ike_msg_find (const IkeMsg *msg, IkePayloadType type);
const IkePayloadNotify *ike_msg_find_notify (const IkeMsg *msg, guint16 type);
const IkePayloadSk *ike_msg_get_sk (const IkeMsg *msg);   /* NULL: none */
const IkePayloadSkf *ike_msg_get_skf (const IkeMsg *msg); /* NULL: none */
/* Builds the message again from what was parsed. */
GBytes *ike_msg_to_bytes (const IkeMsg *msg, GError **error);
/* For logs: "IKE_SA_INIT request #0 [ SA KE No N(NAT_DETECTION_SOURCE_IP) ]". */
char *ike_msg_describe (const IkeMsg *msg);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IkeMsg, ike_msg_free)

/* ---- Decrypted SK content: every payload type but SK/SKF ---- */

typedef struct _IkeInner IkeInner;

/* @plaintext is the decrypted SK content without padding; @first_payload
 * the SK's (or first SKF's) first_inner. */
IkeInner *ike_inner_parse (GBytes *plaintext, guint8 first_payload, IkeMsgFault *fault,
                           GError **error);
void ike_inner_free (IkeInner *inner);
guint ike_inner_get_n_payloads (const IkeInner *inner);
const IkePayload *ike_inner_get_payload (const IkeInner *inner, guint index);
const IkePayload *ike_inner_find (const IkeInner *inner, IkePayloadType type);
const IkePayloadNotify *ike_inner_find_notify (const IkeInner *inner, guint16 type);
GBytes *ike_inner_to_bytes (const IkeInner *inner, guint8 *first_payload, GError **error);
char *ike_inner_describe (const IkeInner *inner); /* "[ IDi AUTH SA TSi TSr ]" */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IkeInner, ike_inner_free)

/* ---- Building a message ---- */

typedef struct _IkeMsgBuilder IkeMsgBuilder;

IkeMsgBuilder *ike_msg_builder_new (const IkeHeader *header);
void ike_msg_builder_free (IkeMsgBuilder *builder);
/* Cleartext payloads only (a programming error otherwise); not SK/SKF. */
gboolean ike_msg_builder_add (IkeMsgBuilder *builder, const IkePayload *payload, GError **error);
gboolean ike_msg_builder_add_notify (IkeMsgBuilder *builder, guint16 type, const guint8 *data,
                                     gsize len, GError **error);
/* Ends the chain with an SK payload whose body is @body_len bytes and writes
 * every length, so the message is final but for the body.  Returns where the
 * caller seals IV ‖ ciphertext ‖ ICV (valid until the builder is freed or
 * turned into bytes); the AAD is ike_msg_builder_peek()'s first aad_len bytes. */
guint8 *ike_msg_builder_reserve_sk (IkeMsgBuilder *builder, guint8 first_inner, gsize body_len,
                                    GError **error);
guint8 *ike_msg_builder_reserve_skf (IkeMsgBuilder *builder, guint8 first_inner, guint16 number,
                                     guint16 total, gsize body_len, GError **error);
/* reserve_sk and copy a sealed body in. */
gboolean ike_msg_builder_add_sk (IkeMsgBuilder *builder, guint8 first_inner, const guint8 *body,
                                 gsize body_len, GError **error);
/* The bytes so far; *aad_len: after a reserve, the AEAD associated data length. */
const guint8 *ike_msg_builder_peek (const IkeMsgBuilder *builder, gsize *len, gsize *aad_len);
/* Writes the header's Length and returns the message; frees the builder. */
GBytes *ike_msg_builder_free_to_bytes (IkeMsgBuilder *builder);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IkeMsgBuilder, ike_msg_builder_free)

/* ---- Building an inner chain (the SK plaintext, before padding) ---- */

typedef struct _IkeInnerBuilder IkeInnerBuilder;

IkeInnerBuilder *ike_inner_builder_new (void);
void ike_inner_builder_free (IkeInnerBuilder *builder);
/* Any payload but SK/SKF. */
gboolean ike_inner_builder_add (IkeInnerBuilder *builder, const IkePayload *payload,
                                GError **error);
gboolean ike_inner_builder_add_notify (IkeInnerBuilder *builder, guint16 type, const guint8 *data,
                                       gsize len, GError **error);
/* The chain's bytes and, in *first_payload, its first payload type (0 when
 * empty), which goes into the SK header.  Frees the builder. */
GBytes *ike_inner_builder_free_to_bytes (IkeInnerBuilder *builder, guint8 *first_payload);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IkeInnerBuilder, ike_inner_builder_free)

/* ---- Notification data with a structure ---- */

/* RFC 5685 §4 (REDIRECT, REDIRECTED_FROM).  nonce: REDIRECT in an
 * IKE_SA_INIT response echoes the initiator's nonce; empty otherwise. */
typedef struct
{
  guint8 gw_type; /* IkeGatewayIdentType */
  IkeSlice gw;
  IkeSlice nonce;
} IkeRedirect;

gboolean ike_notify_get_redirect (const IkePayloadNotify *notify, IkeRedirect *redirect);
GBytes *ike_notify_data_redirect (const IkeRedirect *redirect);
/* INVALID_KE_PAYLOAD's group; any notify whose data is one 16-bit number. */
gboolean ike_notify_get_u16 (const IkePayloadNotify *notify, guint16 *value);
GBytes *ike_notify_data_u16 (guint16 value);
/* SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4): copies up to @max, returns how many there are. */
guint ike_notify_get_hash_algorithms (const IkePayloadNotify *notify, guint16 *algs, guint max);
GBytes *ike_notify_data_hash_algorithms (const guint16 *algs, guint n);

/* ---- NAT-T framing on port 4500 (RFC 3948 §2.2) ---- */

typedef enum
{
  IKE_NATT_INVALID,   /* too short to be anything */
  IKE_NATT_IKE,       /* non-ESP marker, then IKE */
  IKE_NATT_ESP,       /* starts with a non-zero SPI: for the kernel */
  IKE_NATT_KEEPALIVE, /* the one-octet 0xff (RFC 3948 §2.3) */
} IkeNattKind;

/* Classifies a datagram received on 4500; for IKE, *ike_offset is where the
 * IKE message starts (after the marker). */
IkeNattKind ike_natt_classify (const guint8 *data, gsize len, gsize *ike_offset);
/* The datagram to send on 4500: the marker, then @message. */
GBytes *ike_natt_add_marker (GBytes *message);

/* ---- Names for logs (NULL when unknown) ---- */

const char *ike_payload_type_name (guint type);  /* "NOTIFY" */
const char *ike_payload_short_name (guint type); /* "N" as in RFC 7296 figures */
const char *ike_exchange_name (guint exchange);
const char *ike_notify_name (guint type);
const char *ike_protocol_name (guint protocol);
const char *ike_transform_type_name (guint type);
const char *ike_transform_id_name (guint type, guint id);
const char *ike_id_type_name (guint type);
const char *ike_auth_method_name (guint method);
const char *ike_cert_encoding_name (guint encoding);
const char *ike_ts_type_name (guint type);
const char *ike_cfg_type_name (guint type);
const char *ike_cfg_attr_name (guint type);
const char *ike_msg_error_name (IkeMsgError code);

G_END_DECLS
