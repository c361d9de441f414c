/* Certificate authentication back to back: a CA and end-entity
 * certificates made with NSS at test time (ECDSA P-256 and RSA-3072, a
 * dNSName subjectAltName and a subject DN), then IKE_AUTH with CERT and
 * CERTREQ, and each way a certificate is refused. */
#include "harness.h"

#include <cert.h>
#include <cryptohi.h>
#include <nss.h>
#include <pk11pub.h>
#include <string.h>

#define RUN (10 * G_TIME_SPAN_MINUTE)
#define DAY (24 * G_TIME_SPAN_HOUR)
/* The wall clock the tests give the engines: 2026-01-01 00:00 UTC. */
#define WALL ((gint64) 1767225600 * G_TIME_SPAN_SECOND)
#define FRAG_DATAGRAM 1280
#define SIG_SLACK 8

typedef struct
{
  SECKEYPrivateKey *priv;
  SECKEYPublicKey *pub;
  CERTCertificate *cert;
} TestCert;

static TestCert ca, rogue_ca, forged_ca, inter_ca, ec_server, ec_client, rsa_server, expired,
    misnamed, forged, via_inter;

static void
make_key (TestCert *c, gboolean rsa)
{
  PK11RSAGenParams params = { 3072, 65537 };
  PK11SlotInfo *slot;

  if (!rsa)
    {
      test_nss_keys (&c->priv, &c->pub, FALSE);
      return;
    }
  slot = PK11_GetInternalSlot ();
  c->priv = PK11_GenerateKeyPair (slot, CKM_RSA_PKCS_KEY_PAIR_GEN, &params, &c->pub, PR_FALSE,
                                  PR_FALSE, NULL);
  PK11_FreeSlot (slot);
  g_assert_nonnull (c->priv);
}

static void
add_ext (void *handle, PLArenaPool *arena, const char *dns)
{
  CERTBasicConstraints bc = { PR_TRUE, CERT_UNLIMITED_PATH_CONSTRAINT };
  CERTGeneralName name = { .type = certDNSName };
  SECItem der = { siBuffer, NULL, 0 };

  if (dns == NULL)
    {
      g_assert_true (CERT_EncodeBasicConstraintValue (arena, &bc, &der) == SECSuccess);
      g_assert_true (
          CERT_AddExtension (handle, SEC_OID_X509_BASIC_CONSTRAINTS, &der, PR_TRUE, PR_TRUE)
          == SECSuccess);
      return;
    }
  name.name.other = (SECItem){ siBuffer, (unsigned char *) dns, (unsigned) strlen (dns) };
  PR_INIT_CLIST (&name.l);
  g_assert_true (CERT_EncodeAltNameExtension (arena, &name, &der) == SECSuccess);
  g_assert_true (CERT_AddExtension (handle, SEC_OID_X509_SUBJECT_ALT_NAME, &der, PR_FALSE, PR_TRUE)
                 == SECSuccess);
}

/* A v3 certificate for @c's key, signed by @issuer (NULL: by itself); a CA
 * when it has no @dns. */
static void
make_cert (TestCert *c, const char *subject, TestCert *issuer, const char *dns, gint64 from,
           gint64 to)
{
  static unsigned long serial = 1;
  CERTName *name = CERT_AsciiToName (subject);
  CERTSubjectPublicKeyInfo *spki = SECKEY_CreateSubjectPublicKeyInfo (c->pub);
  CERTCertificateRequest *req = CERT_CreateCertificateRequest (name, spki, NULL);
  CERTValidity *validity = CERT_CreateValidity (from, to);
  CERTCertificate *tbs = CERT_CreateCertificate (
      serial++, issuer != NULL ? &issuer->cert->subject : name, validity, req);
  SECKEYPrivateKey *signer = issuer != NULL ? issuer->priv : c->priv;
  SECOidTag alg = SEC_GetSignatureAlgorithmOidTag (signer->keyType, SEC_OID_SHA256);
  void *handle = CERT_StartCertExtensions (tbs);
  SECItem *der, signed_der = { siBuffer, NULL, 0 };

  add_ext (handle, tbs->arena, dns);
  g_assert_true (CERT_FinishExtensions (handle) == SECSuccess);
  g_assert_nonnull (SEC_ASN1EncodeInteger (tbs->arena, &tbs->version, SEC_CERTIFICATE_VERSION_3));
  g_assert_true (SECOID_SetAlgorithmID (tbs->arena, &tbs->signature, alg, NULL) == SECSuccess);
  der = SEC_ASN1EncodeItem (tbs->arena, NULL, tbs, SEC_ASN1_GET (CERT_CertificateTemplate));
  g_assert_nonnull (der);
  g_assert_true (SEC_DerSignData (tbs->arena, &signed_der, der->data, (int) der->len, signer, alg)
                 == SECSuccess);
  c->cert
      = CERT_NewTempCertificate (CERT_GetDefaultCertDB (), &signed_der, NULL, PR_FALSE, PR_TRUE);
  g_assert_nonnull (c->cert);
  CERT_DestroyCertificate (tbs);
  CERT_DestroyValidity (validity);
  CERT_DestroyCertificateRequest (req);
  SECKEY_DestroySubjectPublicKeyInfo (spki);
  CERT_DestroyName (name);
}

static void
test_cert_free (TestCert *c)
{
  CERT_DestroyCertificate (c->cert);
  SECKEY_DestroyPrivateKey (c->priv);
  SECKEY_DestroyPublicKey (c->pub);
}

/* One side: with @ours we sign with that certificate and send @fqdn, else
 * NULL auth; with @trust the peer must show a certificate from it (and the
 * identity @peer_fqdn when given), else NULL auth. */
static IkeConfig *
cert_config (const char *name, const char *fqdn, TestCert *ours, TestCert *trust,
             const char *peer_fqdn)
{
  g_autoptr (GError) error = NULL;
  IkeConfig *config = ike_config_new (name);
  IkeIdentity id = { IKE_ID_FQDN, (const guint8 *) fqdn, fqdn != NULL ? strlen (fqdn) : 0 };
  IkeIdentity peer
      = { IKE_ID_FQDN, (const guint8 *) peer_fqdn, peer_fqdn != NULL ? strlen (peer_fqdn) : 0 };

  g_assert_true (ike_config_set_local_auth (
      config, ours ? IKE_AUTH_DIGITAL_SIGNATURE : IKE_AUTH_NULL, ours ? &id : NULL, &error));
  g_assert_true (ike_config_set_remote_auth (config,
                                             trust ? IKE_AUTH_DIGITAL_SIGNATURE : IKE_AUTH_NULL,
                                             peer_fqdn ? &peer : NULL, &error));
  if (ours != NULL)
    g_assert_true (ike_config_set_local_certificate (config, ours->cert, ours->priv, &error));
  if (trust != NULL)
    g_assert_true (ike_config_set_remote_ca (config, trust->cert, &error));
  g_assert_no_error (error);
  return config;
}

static TestWire *
cert_wire (IkeConfig *a, IkeConfig *b)
{
  TestWire *wire = test_wire_new (a, b, 3);

  ike_engine_set_wall_clock (wire->a.engine, wire->now, WALL);
  ike_engine_set_wall_clock (wire->b.engine, wire->now, WALL);
  return wire;
}

static void
assert_up (TestWire *wire, gboolean a_authenticated, gboolean b_authenticated)
{
  const IkeEvent *a = test_peer_event (&wire->a, IKE_EVENT_IKE_UP);
  const IkeEvent *b = test_peer_event (&wire->b, IKE_EVENT_IKE_UP);

  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_IKE_FAILED), ==, 0);
  g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_IKE_FAILED), ==, 0);
  /* a's "authenticated" says b proved itself, and the other way round. */
  g_assert_cmpint (a->authenticated, ==, b_authenticated);
  g_assert_cmpint (b->authenticated, ==, a_authenticated);
  test_assert_children_match (wire);
}

static void
assert_remote_id (TestPeer *peer, const char *fqdn)
{
  const IkeEvent *ev = test_peer_event (peer, IKE_EVENT_IKE_UP);

  g_assert_cmpint (ev->remote_id_type, ==, IKE_ID_FQDN);
  g_assert_cmpmem (g_bytes_get_data (ev->remote_id, NULL), g_bytes_get_size (ev->remote_id), fqdn,
                   strlen (fqdn));
  g_assert_cmpint (ev->remote_auth, ==, IKE_AUTH_DIGITAL_SIGNATURE);
}

static void
test_ecdsa_both_ways (void)
{
  g_autoptr (IkeConfig) a = cert_config ("a", "client.example", &ec_client, &ca, "server.example");
  g_autoptr (IkeConfig) b = cert_config ("b", "server.example", &ec_server, &ca, NULL);
  g_autoptr (TestWire) wire = cert_wire (a, b);

  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  assert_up (wire, TRUE, TRUE);
  assert_remote_id (&wire->a, "server.example");
  assert_remote_id (&wire->b, "client.example");
}

static guint
count_fragments (TestPeer *peer)
{
  guint n = 0;

  for (guint i = 0; i < peer->sent->len; i++)
    {
      g_autoptr (IkeMsg) msg = ike_msg_parse (peer->sent->pdata[i], NULL, NULL);

      n += msg != NULL && ike_msg_get_skf (msg) != NULL;
    }
  return n;
}

/* An RSA-3072 certificate and signature make IKE_AUTH too big for one
 * datagram: it goes out in RFC 7383 fragments. */
static void
test_rsa3072_fragmented (void)
{
  g_autoptr (IkeConfig) a = cert_config ("a", "client.example", &ec_client, &ca, "server.example");
  g_autoptr (IkeConfig) b = cert_config ("b", "rsa.example", &rsa_server, &ca, NULL);
  g_autoptr (TestWire) wire = NULL;
  g_autoptr (GError) error = NULL;
  IkeIdentity rsa_id = { IKE_ID_FQDN, (const guint8 *) "rsa.example", 11 };

  g_assert_true (ike_config_set_remote_auth (a, IKE_AUTH_DIGITAL_SIGNATURE, &rsa_id, &error));
  g_assert_true (ike_config_set_fragmentation (a, TRUE, FRAG_DATAGRAM, &error));
  g_assert_true (ike_config_set_fragmentation (b, TRUE, FRAG_DATAGRAM, &error));
  g_assert_no_error (error);
  wire = cert_wire (a, b);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  assert_up (wire, TRUE, TRUE);
  assert_remote_id (&wire->a, "rsa.example");
  g_assert_cmpuint (count_fragments (&wire->b), >, 1);
}

/* The server names itself by its certificate's subject DN (ID_DER_ASN1_DN). */
static void
test_dn_identity (void)
{
  g_autoptr (IkeConfig) a = cert_config ("a", NULL, NULL, &ca, NULL);
  g_autoptr (IkeConfig) b = cert_config ("b", NULL, &ec_server, NULL, NULL);
  g_autoptr (TestWire) wire = NULL;
  g_autoptr (GError) error = NULL;
  SECItem *dn = &ec_server.cert->derSubject;
  IkeIdentity id = { IKE_ID_DER_ASN1_DN, dn->data, dn->len };
  const IkeEvent *ev;

  g_assert_true (ike_config_set_local_auth (b, IKE_AUTH_DIGITAL_SIGNATURE, &id, &error));
  g_assert_true (ike_config_set_remote_auth (a, IKE_AUTH_DIGITAL_SIGNATURE, &id, &error));
  g_assert_no_error (error);
  wire = cert_wire (a, b);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  assert_up (wire, FALSE, TRUE);
  ev = test_peer_event (&wire->a, IKE_EVENT_IKE_UP);
  g_assert_cmpint (ev->remote_id_type, ==, IKE_ID_DER_ASN1_DN);
  g_assert_cmpmem (g_bytes_get_data (ev->remote_id, NULL), g_bytes_get_size (ev->remote_id),
                   dn->data, dn->len);
}

/* "Encrypt like TLS": an anonymous client, a server with a certificate. */
static void
test_null_to_cert (void)
{
  g_autoptr (IkeConfig) a = cert_config ("a", NULL, NULL, &ca, "server.example");
  g_autoptr (IkeConfig) b = cert_config ("b", "server.example", &ec_server, NULL, NULL);
  g_autoptr (TestWire) wire = cert_wire (a, b);

  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  assert_up (wire, FALSE, TRUE);
  assert_remote_id (&wire->a, "server.example");
  g_assert_cmpint (test_peer_event (&wire->b, IKE_EVENT_IKE_UP)->remote_id_type, ==, IKE_ID_NULL);
}

/* The client refuses the server's certificate: its failed event says why,
 * and the server hears AUTHENTICATION_FAILED. */
static void
assert_client_refuses (TestWire *wire, const char *why)
{
  const IkeEvent *ev = test_peer_event (&wire->a, IKE_EVENT_IKE_FAILED);

  g_assert_nonnull (ev);
  g_assert_cmpuint (ev->notify, ==, IKE_N_AUTHENTICATION_FAILED);
  g_assert_false (ev->notify_from_peer);
  g_assert_nonnull (strstr (ev->reason, why));
  g_assert_null (test_peer_event (&wire->a, IKE_EVENT_IKE_UP));
  g_assert_null (test_peer_kernel (&wire->a, IKE_KERNEL_INSTALL));
  ev = test_peer_event (&wire->b, IKE_EVENT_IKE_DOWN);
  g_assert_nonnull (ev);
  g_assert_cmpuint (ev->notify, ==, IKE_N_AUTHENTICATION_FAILED);
}

static void
run_refused (TestCert *server, const char *server_id, TestCert *trust, const char *why)
{
  g_autoptr (IkeConfig) a = cert_config ("a", NULL, NULL, trust, NULL);
  g_autoptr (IkeConfig) b = cert_config ("b", server_id, server, NULL, NULL);
  g_autoptr (TestWire) wire = cert_wire (a, b);

  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  assert_client_refuses (wire, why);
}

static void
test_unknown_ca (void)
{
  run_refused (&ec_server, "server.example", &rogue_ca, "not issued by a configured CA");
}

static void
test_expired (void)
{
  run_refused (&expired, "server.example", &ca, "expired or not yet valid");
}

/* The certificate names other.example; the server claims server.example. */
static void
test_id_not_in_cert (void)
{
  run_refused (&misnamed, "server.example", &ca,
               "does not name the identity ID_FQDN server.example");
}

/* A certificate for another name, whose identity is not the one we want. */
static void
test_cert_for_other_name (void)
{
  g_autoptr (IkeConfig) a = cert_config ("a", NULL, NULL, &ca, "server.example");
  g_autoptr (IkeConfig) b = cert_config ("b", "other.example", &misnamed, NULL, NULL);
  g_autoptr (TestWire) wire = cert_wire (a, b);

  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  assert_client_refuses (wire, "is not the configured one");
}

/* A CA the attacker made with the name of ours: its key is not ours. */
static void
test_forged_ca_same_name (void)
{
  run_refused (&forged, "server.example", &ca, "not issued by a configured CA");
}

/* The server sends its intermediate CA in a second CERT payload; the client
 * trusts only the root.  (Both engines share this process's NSS store, in
 * which the intermediate exists anyway, so a missing second CERT would go
 * unnoticed here; the interop suite covers that.) */
static void
test_intermediate (void)
{
  g_autoptr (IkeConfig) a = cert_config ("a", NULL, NULL, &ca, "server.example");
  g_autoptr (IkeConfig) b = cert_config ("b", "server.example", &via_inter, NULL, NULL);
  g_autoptr (TestWire) wire = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (ike_config_add_local_intermediate (b, inter_ca.cert, &error));
  g_assert_no_error (error);
  wire = cert_wire (a, b);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  assert_up (wire, FALSE, TRUE);
  assert_remote_id (&wire->a, "server.example");
}

/* The same refusal from the responder's side: the client's certificate is
 * from a CA the server does not trust. */
static void
test_server_refuses_client (void)
{
  g_autoptr (IkeConfig) a = cert_config ("a", "client.example", &ec_client, &ca, NULL);
  g_autoptr (IkeConfig) b = cert_config ("b", "server.example", &ec_server, &rogue_ca, NULL);
  g_autoptr (TestWire) wire = cert_wire (a, b);
  const IkeEvent *ev;

  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  ev = test_peer_event (&wire->b, IKE_EVENT_IKE_FAILED);
  g_assert_nonnull (ev);
  g_assert_nonnull (strstr (ev->reason, "not issued by a configured CA"));
  ev = test_peer_event (&wire->a, IKE_EVENT_IKE_FAILED);
  g_assert_nonnull (ev);
  g_assert_cmpuint (ev->notify, ==, IKE_N_AUTHENTICATION_FAILED);
  g_assert_true (ev->notify_from_peer);
}

/* Without the host's wall-clock time no certificate can be judged. */
static void
test_no_wall_clock (void)
{
  g_autoptr (IkeConfig) a = cert_config ("a", NULL, NULL, &ca, NULL);
  g_autoptr (IkeConfig) b = cert_config ("b", "server.example", &ec_server, NULL, NULL);
  g_autoptr (TestWire) wire = test_wire_new (a, b, 3);

  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  assert_client_refuses (wire, "no wall-clock time");
}

/* The CERTREQ of the responder's IKE_SA_INIT, or NULL. */
static const IkePayload *
init_certreq (TestPeer *peer, IkeMsg **msg)
{
  *msg = ike_msg_parse (peer->sent->pdata[0], NULL, NULL);
  g_assert_nonnull (*msg);
  g_assert_cmpuint (ike_msg_get_header (*msg)->exchange, ==, IKE_EXCHANGE_SA_INIT);
  return ike_msg_find (*msg, IKE_PAYLOAD_CERTREQ);
}

/* §3.7: encoding 4, the SHA-1 hash of the CA's SubjectPublicKeyInfo. */
static void
test_certreq (void)
{
  g_autoptr (IkeConfig) a = cert_config ("a", "client.example", &ec_client, &ca, NULL);
  g_autoptr (IkeConfig) b = cert_config ("b", "server.example", &ec_server, &ca, NULL);
  g_autoptr (IkeConfig) anon = cert_config ("anon", NULL, NULL, &ca, NULL);
  g_autoptr (IkeConfig) c = cert_config ("c", "server.example", &ec_server, NULL, NULL);
  g_autoptr (TestWire) wire = cert_wire (a, b);
  g_autoptr (TestWire) plain = cert_wire (anon, c);
  g_autoptr (IkeMsg) msg = NULL;
  g_autoptr (IkeMsg) plain_msg = NULL;
  g_autoptr (SECKEYPublicKey) key = CERT_ExtractPublicKey (ca.cert);
  SECItem *spki = SECKEY_EncodeDERSubjectPublicKeyInfo (key);
  guint8 hash[20];
  const IkePayload *req;

  g_assert_true (PK11_HashBuf (SEC_OID_SHA1, hash, spki->data, (PRInt32) spki->len) == SECSuccess);
  SECITEM_FreeItem (spki, PR_TRUE);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  assert_up (wire, TRUE, TRUE);
  req = init_certreq (&wire->b, &msg);
  g_assert_nonnull (req);
  g_assert_cmpuint (req->u.cert.encoding, ==, IKE_CERT_X509_SIG);
  g_assert_cmpmem (req->u.cert.data.data, req->u.cert.data.len, hash, sizeof hash);
  /* A responder that trusts no CA asks for nothing. */
  test_wire_initiate (plain);
  test_wire_run (plain, RUN);
  assert_up (plain, FALSE, TRUE);
  g_assert_null (init_certreq (&plain->b, &plain_msg));
}

static void
test_key_not_cert (void)
{
  g_autoptr (IkeConfig) config = ike_config_new ("x");
  g_autoptr (GError) error = NULL;

  g_assert_false (
      ike_config_set_local_certificate (config, ec_server.cert, ec_client.priv, &error));
  g_assert_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID);
}

/* A DN from a configuration (NSS encodes PrintableString) and the one in a
 * certificate (OpenSSL: UTF8String) are the same name; other identity
 * types compare as bytes. */
static void
test_identity_equal (void)
{
  static const guint8 printable[] = { 0x30, 0x11, 0x31, 0x0f, 0x30, 0x0d, 0x06, 0x03, 0x55, 0x04,
                                      0x03, 0x13, 0x06, 'a',  '.',  't',  'e',  's',  't' };
  static const guint8 utf8[] = { 0x30, 0x11, 0x31, 0x0f, 0x30, 0x0d, 0x06, 0x03, 0x55, 0x04,
                                 0x03, 0x0c, 0x06, 'a',  '.',  't',  'e',  's',  't' };
  static const guint8 other[] = { 0x30, 0x11, 0x31, 0x0f, 0x30, 0x0d, 0x06, 0x03, 0x55, 0x04,
                                  0x03, 0x0c, 0x06, 'b',  '.',  't',  'e',  's',  't' };

  g_assert_true (
      ike_identity_equal (IKE_ID_DER_ASN1_DN, printable, sizeof printable, utf8, sizeof utf8));
  g_assert_false (
      ike_identity_equal (IKE_ID_DER_ASN1_DN, printable, sizeof printable, other, sizeof other));
  g_assert_false (ike_identity_equal (IKE_ID_DER_ASN1_DN, printable, sizeof printable,
                                      (const guint8 *) "junk", 4));
  g_assert_false (ike_identity_equal (IKE_ID_FQDN, printable, sizeof printable, utf8, sizeof utf8));
  g_assert_true (ike_identity_equal (IKE_ID_FQDN, utf8, sizeof utf8, utf8, sizeof utf8));
}

/* The bytes of the IKE_AUTH response @peer sent, every fragment of it (it
 * carries CERT or not). */
static gsize
auth_response_size (TestPeer *peer)
{
  gsize size = 0;

  for (guint i = 0; i < peer->sent->len; i++)
    {
      g_autoptr (IkeMsg) msg = ike_msg_parse (peer->sent->pdata[i], NULL, NULL);

      if (msg != NULL && ike_msg_get_header (msg)->exchange == IKE_EXCHANGE_AUTH
          && (ike_msg_get_header (msg)->flags & IKE_FLAG_RESPONSE))
        size += g_bytes_get_size (peer->sent->pdata[i]);
    }
  g_assert_cmpuint (size, >, 0);
  return size;
}

/* The server's IKE_AUTH response size with @when, to a client that pinned
 * the server's key (@asks FALSE: no CA, so no CERTREQ) or trusts its CA. */
static gsize
send_cert_run (IkeSendCert when, gboolean asks)
{
  g_autoptr (IkeConfig) a = cert_config ("a", NULL, NULL, asks ? &ca : NULL, NULL);
  g_autoptr (IkeConfig) b = cert_config ("b", "server.example", &ec_server, NULL, NULL);
  g_autoptr (TestWire) wire = NULL;
  g_autoptr (GError) error = NULL;
  IkeIdentity id = { IKE_ID_FQDN, (const guint8 *) "server.example", 14 };

  g_assert_true (ike_config_set_remote_auth (a, IKE_AUTH_DIGITAL_SIGNATURE, &id, &error));
  if (!asks)
    g_assert_true (ike_config_set_peer_public_key (a, ec_server.pub, &error));
  g_assert_no_error (error);
  ike_config_set_send_cert (b, when);
  wire = cert_wire (a, b);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  assert_up (wire, FALSE, TRUE);
  return auth_response_size (&wire->b);
}

/* send-cert: ifasked sends CERT only after a CERTREQ, never not at all. */
static void
test_send_cert (void)
{
  gsize always = send_cert_run (IKE_SEND_CERT_ALWAYS, FALSE);
  gsize unasked = send_cert_run (IKE_SEND_CERT_IFASKED, FALSE);
  gsize never = send_cert_run (IKE_SEND_CERT_NEVER, FALSE);
  gsize asked = send_cert_run (IKE_SEND_CERT_IFASKED, TRUE);
  gsize cert_len = ec_server.cert->derCert.len;

  /* ECDSA signatures (DER in AUTH) differ by a few bytes from run to run */
  g_assert_cmpuint (unasked, <=, never + SIG_SLACK);
  g_assert_cmpuint (never, <=, unasked + SIG_SLACK);
  g_assert_cmpuint (always + SIG_SLACK, >=, never + cert_len);
  g_assert_cmpuint (asked + SIG_SLACK, >=, never + cert_len);
}

static void
make_certs (void)
{
  gint64 from = WALL - 30 * DAY, to = WALL + 365 * DAY;

  make_key (&ca, FALSE);
  make_cert (&ca, "CN=Test CA,O=ipsecd", NULL, NULL, from, to);
  make_key (&rogue_ca, FALSE);
  make_cert (&rogue_ca, "CN=Rogue CA,O=ipsecd", NULL, NULL, from, to);
  make_key (&forged_ca, FALSE);
  make_cert (&forged_ca, "CN=Test CA,O=ipsecd", NULL, NULL, from, to);
  make_key (&forged, FALSE);
  make_cert (&forged, "CN=server.example,O=forged", &forged_ca, "server.example", from, to);
  make_key (&inter_ca, FALSE);
  make_cert (&inter_ca, "CN=Intermediate CA,O=ipsecd", &ca, NULL, from, to);
  make_key (&via_inter, FALSE);
  make_cert (&via_inter, "CN=server.example,O=inter", &inter_ca, "server.example", from, to);
  make_key (&ec_server, FALSE);
  make_cert (&ec_server, "CN=server.example,O=ipsecd", &ca, "server.example", from, to);
  make_key (&ec_client, FALSE);
  make_cert (&ec_client, "CN=client.example,O=ipsecd", &ca, "client.example", from, to);
  make_key (&rsa_server, TRUE);
  make_cert (&rsa_server, "CN=rsa.example,O=ipsecd", &ca, "rsa.example", from, to);
  make_key (&expired, FALSE);
  make_cert (&expired, "CN=server.example,O=old", &ca, "server.example", WALL - 400 * DAY,
             WALL - 35 * DAY);
  make_key (&misnamed, FALSE);
  make_cert (&misnamed, "CN=other.example,O=ipsecd", &ca, "other.example", from, to);
}

int
main (int argc, char **argv)
{
  TestCert *all[] = { &misnamed, &expired, &rsa_server, &ec_client, &ec_server, &via_inter,
                      &inter_ca, &forged,  &forged_ca,  &rogue_ca,  &ca };
  int status;

  g_test_init (&argc, &argv, NULL);
  g_assert_true (ike_crypto_init (NULL));
  make_certs ();
  g_test_add_func ("/engine/cert/ecdsa-both-ways", test_ecdsa_both_ways);
  g_test_add_func ("/engine/cert/rsa3072-fragmented", test_rsa3072_fragmented);
  g_test_add_func ("/engine/cert/null-to-cert", test_null_to_cert);
  g_test_add_func ("/engine/cert/dn-identity", test_dn_identity);
  g_test_add_func ("/engine/cert/unknown-ca", test_unknown_ca);
  g_test_add_func ("/engine/cert/expired", test_expired);
  g_test_add_func ("/engine/cert/id-not-in-cert", test_id_not_in_cert);
  g_test_add_func ("/engine/cert/cert-for-other-name", test_cert_for_other_name);
  g_test_add_func ("/engine/cert/forged-ca-same-name", test_forged_ca_same_name);
  g_test_add_func ("/engine/cert/intermediate", test_intermediate);
  g_test_add_func ("/engine/cert/server-refuses-client", test_server_refuses_client);
  g_test_add_func ("/engine/cert/no-wall-clock", test_no_wall_clock);
  g_test_add_func ("/engine/cert/certreq", test_certreq);
  g_test_add_func ("/engine/cert/key-not-cert", test_key_not_cert);
  g_test_add_func ("/engine/cert/send-cert", test_send_cert);
  g_test_add_func ("/engine/cert/identity-equal", test_identity_equal);
  status = g_test_run ();
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    test_cert_free (all[i]);
  NSS_Shutdown ();
  return status;
}
