/* Key exchange: the RFC 3526 primes, the RFC 5903 §8 ECDH vectors, the
 * RFC 7748 X25519 vectors, agreement between two parties in every group, and
 * the refusal of public values that are wrong. */
#include "crypto-test.h"
#include "ike-crypto-private.h"

#include <pk11pub.h>

/* ---- Known private keys, imported into NSS as PKCS #8 (RFC 5208, RFC 5915) ---- */

/* DER TLV around content; takes content. */
static GBytes *
der (guint8 tag, GBytes *content)
{
  gsize len = g_bytes_get_size (content);
  GByteArray *out = g_byte_array_new ();

  g_byte_array_append (out, &tag, 1);
  if (len < 0x80)
    g_byte_array_append (out, (guint8[]){ (guint8) len }, 1);
  else if (len < 0x100)
    g_byte_array_append (out, (guint8[]){ 0x81, (guint8) len }, 2);
  else
    g_byte_array_append (out, (guint8[]){ 0x82, (guint8) (len >> 8), (guint8) len }, 3);
  g_byte_array_append (out, g_bytes_get_data (content, NULL), (guint) len);
  g_bytes_unref (content);
  return g_byte_array_free_to_bytes (out);
}

/* a || b; takes both. */
static GBytes *
concat (GBytes *a, GBytes *b)
{
  GByteArray *out = g_byte_array_new ();

  g_byte_array_append (out, g_bytes_get_data (a, NULL), (guint) g_bytes_get_size (a));
  g_byte_array_append (out, g_bytes_get_data (b, NULL), (guint) g_bytes_get_size (b));
  g_bytes_unref (a);
  g_bytes_unref (b);
  return g_byte_array_free_to_bytes (out);
}

/* DER of the curves' OIDs (RFC 5480 §2.1.1.1; NSS's OID for Curve25519). */
#define OID_EC_PUBLIC_KEY "06 07 2a8648ce3d0201"
#define OID_P256 "06 08 2a8648ce3d030107"
#define OID_P384 "06 05 2b81040022"
#define OID_P521 "06 05 2b81040023"
#define OID_X25519 "06 09 2b06010401da470f01"

static const char *
curve_oid (IkeKeId group)
{
  switch (group)
    {
    case IKE_KE_ECP256:
      return OID_P256;
    case IKE_KE_ECP384:
      return OID_P384;
    case IKE_KE_ECP521:
      return OID_P521;
    default:
      return OID_X25519;
    }
}

/* The point as NSS keeps it: 0x04 || x || y for ECP, u alone for X25519. */
static GBytes *
nss_point (IkeKeId group, const char *value)
{
  return group == IKE_KE_CURVE25519 ? hex (value) : concat (hex ("04"), hex (value));
}

/* PrivateKeyInfo { 0, { id-ecPublicKey, curve }, ECPrivateKey { 1, d, [1] point } } */
static SECKEYPrivateKey *
import_private (IkeKeId group, const char *scalar, GBytes *point)
{
  GBytes *alg = der (0x30, concat (hex (OID_EC_PUBLIC_KEY), hex (curve_oid (group))));
  GBytes *pub = der (0xa1, der (0x03, concat (hex ("00"), g_bytes_ref (point))));
  GBytes *ec_key = der (0x30, concat (concat (hex ("020101"), der (0x04, hex (scalar))), pub));
  g_autoptr (GBytes) info = der (0x30, concat (concat (hex ("020100"), alg), der (0x04, ec_key)));
  SECItem item = { siBuffer, (unsigned char *) g_bytes_get_data (info, NULL),
                   (unsigned int) g_bytes_get_size (info) };
  PK11SlotInfo *slot = PK11_GetInternalSlot ();
  SECKEYPrivateKey *priv = NULL;
  SECStatus rv;

  rv = PK11_ImportDERPrivateKeyInfoAndReturnKey (slot, &item, NULL, NULL, PR_FALSE, PR_FALSE,
                                                 KU_KEY_AGREEMENT, &priv, NULL);
  PK11_FreeSlot (slot);
  g_assert_cmpint (rv, ==, SECSuccess);
  return priv;
}

/* A public key with the group's parameters and the given point: copied from
 * a throwaway key of the curve, so that only the value is the vector's. */
static SECKEYPublicKey *
public_key (IkeKeId group, GBytes *point)
{
  g_autoptr (GBytes) oid = hex (curve_oid (group));
  SECItem params = { siBuffer, (unsigned char *) g_bytes_get_data (oid, NULL),
                     (unsigned int) g_bytes_get_size (oid) };
  SECItem value = { siBuffer, (unsigned char *) g_bytes_get_data (point, NULL),
                    (unsigned int) g_bytes_get_size (point) };
  SECKEYPublicKey *pub = NULL;
  SECKEYPrivateKey *priv = SECKEY_CreateECPrivateKey (&params, &pub, NULL);

  g_assert_nonnull (priv);
  SECKEY_DestroyPrivateKey (priv);
  g_assert_cmpint (SECITEM_CopyItem (pub->arena, &pub->u.ec.publicValue, &value), ==, SECSuccess);
  return pub;
}

/* An IkeDh holding a published private key. */
static IkeDh *
known_dh (IkeKeId group, const char *scalar, const char *public_value)
{
  g_autoptr (GBytes) point = nss_point (group, public_value);
  g_autoptr (GError) error = NULL;
  IkeDh *dh;

  dh = ike_dh_new_from_keys (group, import_private (group, scalar, point),
                             public_key (group, point), &error);
  g_assert_no_error (error);
  return dh;
}

static void
assert_derives (IkeDh *dh, const char *peer_hex, const char *secret_hex)
{
  g_autoptr (GBytes) peer = hex (peer_hex);
  g_autoptr (GError) error = NULL;
  g_autoptr (PK11SymKey) secret = NULL;

  secret = ike_dh_derive (dh, g_bytes_get_data (peer, NULL), g_bytes_get_size (peer), &error);
  g_assert_no_error (error);
  assert_key_hex (secret, secret_hex);
}

/* ---- RFC 5903 §8 ---- */

typedef struct
{
  const char *section;
  IkeKeId group;
  const char *i, *gi, *r, *gr, *girx;
} EcpVector;

static const EcpVector ecp_vectors[] = {
  { "8.1", IKE_KE_ECP256, "C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433",
    /* gix, giy */
    "DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 72581180"
    "5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3",
    "C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53",
    /* grx, gry */
    "D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 4494BF63"
    "56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB",
    "D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE" },
  { "8.2", IKE_KE_ECP384,
    "099F3C70 34D4A2C6 99884D73 A375A67F 7624EF7C 6B3C0F16 0647B674 14DCE655"
    "E35B5380 41E649EE 3FAEF896 783AB194",
    "667842D7 D180AC2C DE6F74F3 7551F557 55C7645C 20EF73E3 1634FE72 B4C55EE6"
    "DE3AC808 ACB4BDB4 C88732AE E95F41AA"
    "9482ED1F C0EEB9CA FC498462 5CCFC23F 65032149 E0E144AD A0241815 35A0F38E"
    "EB9FCFF3 C2C947DA E69B4C63 4573A81C",
    "41CB0779 B4BDB85D 47846725 FBEC3C94 30FAB46C C8DC5060 855CC9BD A0AA2942"
    "E0308312 916B8ED2 960E4BD5 5A7448FC",
    "E558DBEF 53EECDE3 D3FCCFC1 AEA08A89 A987475D 12FD950D 83CFA417 32BC509D"
    "0D1AC43A 0336DEF9 6FDA41D0 774A3571"
    "DCFBEC7A ACF31964 72169E83 8430367F 66EEBE3C 6E70C416 DD5F0C68 759DD1FF"
    "F83FA401 42209DFF 5EAAD96D B9E6386C",
    "11187331 C279962D 93D60424 3FD592CB 9D0A926F 422E4718 7521287E 7156C5C4"
    "D6031355 69B9E9D0 9CF5D4A2 70F59746" },
  { "8.3", IKE_KE_ECP521,
    "0037ADE9 319A89F4 DABDB3EF 411AACCC A5123C61 ACAB57B5 393DCE47 608172A0"
    "95AA85A3 0FE1C295 2C6771D9 37BA9777 F5957B26 39BAB072 462F68C2 7A57382D"
    "4A52",
    "0015417E 84DBF28C 0AD3C278 713349DC 7DF153C8 97A1891B D98BAB43 57C9ECBE"
    "E1E3BF42 E00B8E38 0AEAE57C 2D107564 94188594 2AF5A7F4 601723C4 195D176C"
    "ED3E"
    "017CAE20 B6641D2E EB695786 D8C94614 6239D099 E18E1D5A 514C739D 7CB4A10A"
    "D8A78801 5AC405D7 799DC75E 7B7D5B6C F2261A6A 7F150743 8BF01BEB 6CA3926F"
    "9582",
    "0145BA99 A847AF43 793FDD0E 872E7CDF A16BE30F DC780F97 BCCC3F07 8380201E"
    "9C677D60 0B343757 A3BDBF2A 3163E4C2 F869CCA7 458AA4A4 EFFC311F 5CB15168"
    "5EB9",
    "00D0B397 5AC4B799 F5BEA16D 5E13E9AF 971D5E9B 984C9F39 728B5E57 39735A21"
    "9B97C356 436ADC6E 95BB0352 F6BE64A6 C2912D4E F2D0433C ED2B6171 640012D9"
    "460F"
    "015C6822 6383956E 3BD066E7 97B623C2 7CE0EAC2 F551A10C 2C724D98 52077B87"
    "220B6536 C5C408A1 D2AEBB8E 86D678AE 49CB5709 1F473229 6579AB44 FCD17F0F"
    "C56A",
    "01144C7D 79AE6956 BC8EDB8E 7C787C45 21CB086F A64407F9 7894E5E6 B2D79B04"
    "D1427E73 CA4BAA24 0A347868 59810C06 B3C715A3 A8CC3151 F2BEE417 996D19F3"
    "DDEA" },
};

static void
test_ecp_vectors (void)
{
  for (gsize n = 0; n < G_N_ELEMENTS (ecp_vectors); n++)
    {
      const EcpVector *v = &ecp_vectors[n];
      g_autoptr (IkeDh) initiator = known_dh (v->group, v->i, v->gi);
      g_autoptr (IkeDh) responder = known_dh (v->group, v->r, v->gr);
      g_autoptr (GBytes) gi = hex (v->gi);
      g_autoptr (GBytes) ke = ike_dh_get_public (initiator);

      g_test_message ("RFC 5903 section %s", v->section);
      /* The KE payload carries x || y, without the 0x04 prefix (§7). */
      assert_bytes (ke, gi);
      g_assert_cmpuint (ike_dh_public_length (v->group), ==, g_bytes_get_size (gi));
      assert_derives (initiator, v->gr, v->girx);
      assert_derives (responder, v->gi, v->girx);
    }
}

/* ---- RFC 7748 ---- */

static void
test_x25519_dh (void)
{
  /* RFC 7748 §6.1. */
  const char *a = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
  const char *a_pub = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
  const char *b = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
  const char *b_pub = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
  const char *k = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  g_autoptr (IkeDh) alice = known_dh (IKE_KE_CURVE25519, a, a_pub);
  g_autoptr (IkeDh) bob = known_dh (IKE_KE_CURVE25519, b, b_pub);
  g_autoptr (GBytes) want = hex (a_pub);
  g_autoptr (GBytes) ke = ike_dh_get_public (alice);

  assert_bytes (ke, want);
  assert_derives (alice, b_pub, k);
  assert_derives (bob, a_pub, k);
}

static void
test_x25519_scalar_mult (void)
{
  /* RFC 7748 §5.2: scalar, input u-coordinate, output u-coordinate.  The
   * second u has its top bit set, which X25519 must ignore (§5). */
  static const char *vectors[][3] = {
    { "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
      "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
      "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
    { "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
      "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
      "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
  };
  /* The vectors give no public key for the scalar; any point will do for
   * the PKCS #8 envelope, the scalar alone makes the result. */
  const char *placeholder = "0900000000000000000000000000000000000000000000000000000000000000";

  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autoptr (IkeDh) dh = known_dh (IKE_KE_CURVE25519, vectors[i][0], placeholder);

      assert_derives (dh, vectors[i][1], vectors[i][2]);
    }
}

/* ---- RFC 3526 ---- */

static void
test_modp_primes (void)
{
  /* SHA-256 of each prime as computed from RFC 3526's definition,
   * p = 2^N - 2^(N-64) - 1 + 2^64 * ([2^(N-130) pi] + k) with k = 124476,
   * 1690314 and 240904, and found equal to the hex the RFC prints. */
  static const struct
  {
    IkeKeId group;
    gsize len;
    const char *sha256;
  } primes[] = {
    { IKE_KE_MODP2048, 256, "d66436f79bbd6b2e38c0ffbd079be904d2641415e2e67140e09448be9a60890e" },
    { IKE_KE_MODP3072, 384, "48cf8b092fbce4359d9871abf74f98e25b6163379eaa15cd9087e800c6d1c55c" },
    { IKE_KE_MODP4096, 512, "4ee95187682bcb230ad26a95205f6920e84708f6251b3894329b09ec23919e33" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (primes); i++)
    {
      gsize len = 0;
      const guint8 *p = ike_dh_modp_prime (primes[i].group, &len);
      g_autofree char *digest = NULL;

      g_assert_nonnull (p);
      g_assert_cmpuint (len, ==, primes[i].len);
      g_assert_cmpuint (ike_dh_public_length (primes[i].group), ==, len);
      /* The formula's shape: 64 one bits at each end. */
      for (gsize j = 0; j < 8; j++)
        {
          g_assert_cmphex (p[j], ==, 0xff);
          g_assert_cmphex (p[len - 1 - j], ==, 0xff);
        }
      digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256, p, len);
      g_assert_cmpstr (digest, ==, primes[i].sha256);
    }
  g_assert_null (ike_dh_modp_prime (IKE_KE_ECP256, &(gsize){ 0 }));
}

/* A MODP secret that starts with a zero byte, which NSS drops and RFC 7296
 * §2.14 keeps.  Not a published vector: x and y = g^z were drawn at random
 * until g^xz mod p (RFC 3526 group 14) came out below 2^2040, and every value
 * was computed with Python's pow(). */
#define MODP_X "d6d30838cf86f261287840135726382da8c33b95f97e67af8455a79b7b3b0d6f"
#define MODP_GX                                                                                    \
  "109329e44da6f88701ca7552c652e4398e5e3850793452090db7ea1fdb3afbfe"                               \
  "1c66b7cca94dfb2f04c61a44d3a4d276c41549f10fee79cf7b8e4662d6b314e7"                               \
  "1ad60d98cb407986b1c6e1f23037b6b58f4e38d304c647623704d52f32e224eb"                               \
  "b95682fe1c2bebff4e5857eb565045374bcca800a711558e45fa6febe72ac2ac"                               \
  "d7520c2534b2a9dd49ec9350dd66e0a0a3d85785faee02be0e0b7df3b5a9cee4"                               \
  "0cf654ed7df05eb2ff3443fbea858323bd8be797e195c09866ef7fccd84d293d"                               \
  "634a01622ba0e06dee9ef879f56ce648b817ef4c7b098bf140a4eb3c05df8d6f"                               \
  "00345c3cc8e80ea034d66464e9e3835c3d8abefef8443a464ce7f9fd8c44bf25"
#define MODP_Y                                                                                     \
  "9306821fe4a6099274932263a3ca721d7a8b8317f9fbfb92697d9d0bb9995762"                               \
  "9701dabcce57b1ff334a9e7b2c2986c65aad8b344f8b65510451b40c0ff3bd87"                               \
  "7241c6f0203281185cea84593297c1be17861ef09d066a380a7fa7223e3c2b2a"                               \
  "9e4e214fb3a8d2c30fb437a51554a8f6ed4c9b738cc62bccf782ad5d75026dc0"                               \
  "15eb4e13ad7e04add1a3a33f1afb1f5d1aa4fc720525bddfd80261bba96beefe"                               \
  "ed9109a35f2c46cf058241e733895bf6096e5512ce8f5f80d7b88c3987396cd3"                               \
  "1c6a1eac9ab5cad15b82c119d1bc2118ad862299108c73fd21e8ebd731cf2745"                               \
  "470578af74712ee9f8bcae1e4fd167e6c1b1312484df8813adc27f7e718627cb"
#define MODP_XY                                                                                    \
  "003905ab450e130e72752caf36b892badc1599446ce369b2978271e137185f3f"                               \
  "a21b2c2a0844aae7e0e3725ae8c2e19863cf8c1fa61e09c542544bc07dc559d9"                               \
  "a7e46f900609f7607e4168363b4aba02966f3d6900dcf1c673b1bc5e2111bc9e"                               \
  "3878403b578f1b345069ab6cdd09a012126f78c7544959f8a009b63276844bb9"                               \
  "76b4432ef95d4e1b583fb47ccdcdc4f0cd22b2d7f0953bce023ea86353019e2c"                               \
  "2e87e4bc23a15a7dd1fbc5f4d488d16c09b5c07f8b4702f0c7e7b412c148aed2"                               \
  "471144d72401cb135cf3f1b5afed47c8687c4e23ff7b3e83a6ddef3284fae588"                               \
  "923bfeaf4a038705a6c341004502752b9a5517b4aff8a37dce98061f2423bdd4"
/* NSS 3.87 cannot import a DH PKCS #8 key (it decodes the domain parameters
 * into the wrong structure), so the private key object is made from its
 * PKCS #11 attributes and found again by its CKA_ID.  The object lives as
 * long as the returned handle. */
static SECKEYPrivateKey *
modp_private_key (const char *x_hex, PK11GenericObject **object)
{
  static const guint8 id[] = "test-modp-private-key";
  CK_OBJECT_CLASS class = CKO_PRIVATE_KEY;
  CK_KEY_TYPE type = CKK_DH;
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  guint8 generator = 2;
  gsize len = 0;
  const guint8 *p = ike_dh_modp_prime (IKE_KE_MODP2048, &len);
  g_autoptr (GBytes) x = hex (x_hex);
  CK_ATTRIBUTE attributes[] = {
    { CKA_CLASS, &class, sizeof class },
    { CKA_KEY_TYPE, &type, sizeof type },
    { CKA_TOKEN, &no, sizeof no },
    { CKA_DERIVE, &yes, sizeof yes },
    { CKA_PRIME, (guint8 *) p, len },
    { CKA_BASE, &generator, 1 },
    { CKA_VALUE, (guint8 *) g_bytes_get_data (x, NULL), g_bytes_get_size (x) },
    { CKA_ID, (guint8 *) id, sizeof id },
  };
  SECItem key_id = { siBuffer, (unsigned char *) id, sizeof id };
  PK11SlotInfo *slot = PK11_GetInternalSlot ();
  SECKEYPrivateKey *priv;

  *object = PK11_CreateManagedGenericObject (slot, attributes, G_N_ELEMENTS (attributes), PR_FALSE);
  g_assert_nonnull (*object);
  priv = PK11_FindKeyByKeyID (slot, &key_id, NULL);
  PK11_FreeSlot (slot);
  g_assert_nonnull (priv);
  return priv;
}

static SECKEYPublicKey *
modp_public_key (GBytes *public_value)
{
  guint8 generator = 2;
  gsize len = 0;
  const guint8 *p = ike_dh_modp_prime (IKE_KE_MODP2048, &len);
  SECKEYDHParams params = { NULL,
                            { siBuffer, (unsigned char *) p, (unsigned int) len },
                            { siBuffer, &generator, 1 } };
  SECItem value = { siBuffer, (unsigned char *) g_bytes_get_data (public_value, NULL),
                    (unsigned int) g_bytes_get_size (public_value) };
  SECKEYPublicKey *pub = NULL;
  SECKEYPrivateKey *priv = SECKEY_CreateDHPrivateKey (&params, &pub, NULL);

  g_assert_nonnull (priv);
  SECKEY_DestroyPrivateKey (priv);
  g_assert_cmpint (SECITEM_CopyItem (pub->arena, &pub->u.dh.publicValue, &value), ==, SECSuccess);
  return pub;
}

static void
test_modp_leading_zero (void)
{
  g_autoptr (GBytes) gx = hex (MODP_GX);
  g_autoptr (GError) error = NULL;
  PK11GenericObject *object = NULL;
  g_autoptr (GBytes) ke = NULL;
  IkeDh *dh;

  dh = ike_dh_new_from_keys (IKE_KE_MODP2048, modp_private_key (MODP_X, &object),
                             modp_public_key (gx), &error);
  g_assert_no_error (error);
  ke = ike_dh_get_public (dh);
  assert_bytes (ke, gx);
  assert_derives (dh, MODP_Y, MODP_XY);
  ike_dh_free (dh);
  PK11_DestroyGenericObject (object);
}

/* ---- Two parties agree, in every group ---- */

static void
check_agreement (IkeKeId group, gsize secret_len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeDh) a = ike_dh_new (group, &error);
  g_autoptr (IkeDh) b = ike_dh_new (group, &error);
  g_autoptr (GBytes) a_pub = ike_dh_get_public (a);
  g_autoptr (GBytes) b_pub = ike_dh_get_public (b);
  g_autoptr (PK11SymKey) a_secret = NULL;
  g_autoptr (PK11SymKey) b_secret = NULL;
  g_autoptr (IkeSecret) a_value = NULL;
  g_autoptr (GBytes) a_bytes = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (ike_dh_get_group (a), ==, group);
  g_assert_cmpuint (g_bytes_get_size (a_pub), ==, ike_dh_public_length (group));
  g_assert_false (g_bytes_equal (a_pub, b_pub));
  a_secret = ike_dh_derive (a, g_bytes_get_data (b_pub, NULL), g_bytes_get_size (b_pub), &error);
  g_assert_no_error (error);
  b_secret = ike_dh_derive (b, g_bytes_get_data (a_pub, NULL), g_bytes_get_size (a_pub), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ike_symkey_length (a_secret), ==, secret_len);
  a_value = ike_symkey_extract (a_secret, &error);
  g_assert_no_error (error);
  a_bytes = g_bytes_new (a_value->data, a_value->len);
  assert_key (b_secret, a_bytes);
}

static void
test_agreement_modp (void)
{
  check_agreement (IKE_KE_MODP2048, 256);
  check_agreement (IKE_KE_MODP3072, 384);
  check_agreement (IKE_KE_MODP4096, 512);
}

static void
test_agreement_ec (void)
{
  check_agreement (IKE_KE_ECP256, 32);
  check_agreement (IKE_KE_ECP384, 48);
  check_agreement (IKE_KE_ECP521, 66);
  check_agreement (IKE_KE_CURVE25519, 32);
}

/* ---- Refusals ---- */

static void
assert_refused (IkeDh *dh, const guint8 *value, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PK11SymKey) secret = ike_dh_derive (dh, value, len, &error);

  g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_BAD_PUBLIC);
  g_assert_null (secret);
}

static void
assert_accepted (IkeDh *dh, const guint8 *value, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PK11SymKey) secret = ike_dh_derive (dh, value, len, &error);

  g_assert_no_error (error);
  g_assert_nonnull (secret);
}

/* Out of range, refused by our own check before NSS sees the value. */
static void
assert_out_of_range (IkeDh *dh, const guint8 *value, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PK11SymKey) secret = ike_dh_derive (dh, value, len, &error);

  g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_BAD_PUBLIC);
  g_assert_nonnull (strstr (error->message, "not between 1 and p - 1"));
  g_assert_null (secret);
}

static void
test_modp_refused (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeDh) dh = ike_dh_new (IKE_KE_MODP2048, &error);
  gsize len = 0;
  const guint8 *p = ike_dh_modp_prime (IKE_KE_MODP2048, &len);
  guint8 y[256];

  g_assert_no_error (error);
  memset (y, 0, sizeof y);
  assert_out_of_range (dh, y, len); /* 0 */
  y[len - 1] = 1;
  assert_out_of_range (dh, y, len); /* 1 */
  y[len - 1] = 2;
  assert_accepted (dh, y, len);        /* 2, the smallest allowed */
  assert_refused (dh, y + 1, len - 1); /* short */
  memcpy (y, p, len);
  assert_out_of_range (dh, y, len); /* p */
  y[len - 1] -= 1;
  assert_out_of_range (dh, y, len); /* p - 1 */
  y[len - 1] -= 1;
  assert_accepted (dh, y, len); /* p - 2, the largest allowed */
  memset (y, 0xff, sizeof y);
  assert_out_of_range (dh, y, len); /* above p */
}

static void
test_ec_refused (void)
{
  const EcpVector *v = &ecp_vectors[0];
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeDh) ecp = ike_dh_new (IKE_KE_ECP256, &error);
  g_autoptr (IkeDh) x25519 = ike_dh_new (IKE_KE_CURVE25519, &error);
  g_autoptr (GBytes) gr = hex (v->gr);
  g_autoptr (GBytes) tagged = nss_point (IKE_KE_ECP256, v->gr);
  guint8 point[64];
  guint8 u[32] = { 0 };

  g_assert_no_error (error);
  memcpy (point, g_bytes_get_data (gr, NULL), sizeof point);
  assert_accepted (ecp, point, sizeof point);
  assert_refused (ecp, point, sizeof point - 1);
  /* RFC 5903's form only: the SEC 1 encoding with its 0x04 is refused. */
  assert_refused (ecp, g_bytes_get_data (tagged, NULL), g_bytes_get_size (tagged));
  point[63] ^= 1; /* y no longer matches x: off the curve */
  assert_refused (ecp, point, sizeof point);
  memset (point, 0, sizeof point); /* (0, 0) is no point of P-256 either */
  assert_refused (ecp, point, sizeof point);

  /* Low-order points (u = 0, u = 1) would make g^ir zero (RFC 8031 §2). */
  assert_refused (x25519, u, sizeof u);
  u[0] = 1;
  assert_refused (x25519, u, sizeof u);
  assert_refused (x25519, u, 31);
}

static void
test_unsupported_groups (void)
{
  static const IkeKeId groups[]
      = { IKE_KE_MODP1024, IKE_KE_MODP1536, IKE_KE_CURVE448, IKE_KE_NONE };

  for (gsize i = 0; i < G_N_ELEMENTS (groups); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (IkeDh) dh = ike_dh_new (groups[i], &error);

      g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_UNSUPPORTED);
      g_assert_null (dh);
      g_assert_false (ike_dh_supported (groups[i]));
      g_assert_cmpuint (ike_dh_public_length (groups[i]), ==, 0);
    }
}

static void
test_keys_of_other_group (void)
{
  g_autoptr (GBytes) point = nss_point (IKE_KE_ECP256, ecp_vectors[0].gi);
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeDh) dh = NULL;

  /* A P-256 key pair is not an X25519 or MODP one. */
  dh = ike_dh_new_from_keys (IKE_KE_CURVE25519,
                             import_private (IKE_KE_ECP256, ecp_vectors[0].i, point),
                             public_key (IKE_KE_ECP256, point), &error);
  g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID);
  g_assert_null (dh);
}

/* NSS returns a MODP secret without its leading zero bytes; RFC 7296 §2.14
 * keeps them, which is what the padding restores. */
static void
test_pad_left (void)
{
  g_autoptr (PK11SymKey) short_key = key_from_hex ("abcdef");
  g_autoptr (GError) error = NULL;
  g_autoptr (PK11SymKey) padded = ike_symkey_pad_left (short_key, 8, &error);
  g_autoptr (PK11SymKey) same = NULL;
  g_autoptr (PK11SymKey) too_long = NULL;

  g_assert_no_error (error);
  assert_key_hex (padded, "0000000000abcdef");
  same = ike_symkey_pad_left (short_key, 3, &error);
  g_assert_no_error (error);
  assert_key_hex (same, "abcdef");
  too_long = ike_symkey_pad_left (short_key, 2, &error);
  g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID);
  g_assert_null (too_long);
}

int
main (int argc, char **argv)
{
  crypto_test_init (&argc, &argv);
  g_test_add_func ("/ike-crypto/dh/ecp-rfc5903", test_ecp_vectors);
  g_test_add_func ("/ike-crypto/dh/x25519-rfc7748-dh", test_x25519_dh);
  g_test_add_func ("/ike-crypto/dh/x25519-rfc7748-scalar-mult", test_x25519_scalar_mult);
  g_test_add_func ("/ike-crypto/dh/modp-rfc3526-primes", test_modp_primes);
  g_test_add_func ("/ike-crypto/dh/modp-leading-zero", test_modp_leading_zero);
  g_test_add_func ("/ike-crypto/dh/agreement-modp", test_agreement_modp);
  g_test_add_func ("/ike-crypto/dh/agreement-ec", test_agreement_ec);
  g_test_add_func ("/ike-crypto/dh/modp-refused", test_modp_refused);
  g_test_add_func ("/ike-crypto/dh/ec-refused", test_ec_refused);
  g_test_add_func ("/ike-crypto/dh/unsupported-groups", test_unsupported_groups);
  g_test_add_func ("/ike-crypto/dh/keys-of-other-group", test_keys_of_other_group);
  g_test_add_func ("/ike-crypto/dh/pad-left", test_pad_left);
  return crypto_test_run ();
}
