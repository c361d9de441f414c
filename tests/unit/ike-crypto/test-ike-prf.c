/* The PRF, prf+ and the IKEv2 key derivation against published vectors:
 * HMAC from RFC 4231 (and RFC 2202 for SHA-1), SKEYSEED, DKM, Child SA
 * keying material and rekeyed SKEYSEED from NIST's SP 800-135 IKEv2 KDF
 * validation vectors. */
#include "crypto-test.h"

/* ---- HMAC: RFC 4231 §4.2, §4.3, §4.7, §4.8; RFC 2202 §3 ---- */

typedef struct
{
  const char *name;
  IkePrfId prf;
  const char *key;  /* hex */
  const char *data; /* text */
  const char *mac;
} HmacVector;

#define KEY_0B20 "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
#define KEY_JEFE "4a656665"
/* RFC 4231 test cases 6 and 7: 131 bytes of 0xaa, longer than a block. */
#define KEY_AA131                                                                                  \
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"       \
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"       \
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DATA_TC6 "Test Using Larger Than Block-Size Key - Hash Key First"
#define DATA_TC7                                                                                   \
  "This is a test using a larger than block-size key and a larger than block-size data. The "      \
  "key needs to be hashed before being used by the HMAC algorithm."

static const HmacVector hmac_vectors[] = {
  { "4231-1-256", IKE_PRF_HMAC_SHA2_256, KEY_0B20, "Hi There",
    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
  { "4231-1-384", IKE_PRF_HMAC_SHA2_384, KEY_0B20, "Hi There",
    "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec6"
    "82aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6" },
  { "4231-1-512", IKE_PRF_HMAC_SHA2_512, KEY_0B20, "Hi There",
    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
    "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
  { "4231-2-256", IKE_PRF_HMAC_SHA2_256, KEY_JEFE, "what do ya want for nothing?",
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
  { "4231-2-384", IKE_PRF_HMAC_SHA2_384, KEY_JEFE, "what do ya want for nothing?",
    "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47"
    "e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649" },
  { "4231-2-512", IKE_PRF_HMAC_SHA2_512, KEY_JEFE, "what do ya want for nothing?",
    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
  { "4231-6-256", IKE_PRF_HMAC_SHA2_256, KEY_AA131, DATA_TC6,
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
  { "4231-6-384", IKE_PRF_HMAC_SHA2_384, KEY_AA131, DATA_TC6,
    "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f"
    "3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952" },
  { "4231-6-512", IKE_PRF_HMAC_SHA2_512, KEY_AA131, DATA_TC6,
    "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
    "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
  { "4231-7-256", IKE_PRF_HMAC_SHA2_256, KEY_AA131, DATA_TC7,
    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
  { "4231-7-384", IKE_PRF_HMAC_SHA2_384, KEY_AA131, DATA_TC7,
    "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9a"
    "dccebb82461e99c5a678cc31e799176d3860e6110c46523e" },
  { "4231-7-512", IKE_PRF_HMAC_SHA2_512, KEY_AA131, DATA_TC7,
    "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
    "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58" },
  { "2202-1-sha1", IKE_PRF_HMAC_SHA1, KEY_0B20, "Hi There",
    "b617318655057264e28bc0b6fb378c8ef146be00" },
  { "2202-2-sha1", IKE_PRF_HMAC_SHA1, KEY_JEFE, "what do ya want for nothing?",
    "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
};

/* Both ways of computing the PRF: public output, and a key kept in NSS. */
static void
test_hmac_vectors (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (hmac_vectors); i++)
    {
      const HmacVector *v = &hmac_vectors[i];
      g_autoptr (PK11SymKey) key = key_from_hex (v->key);
      g_autoptr (GBytes) want = hex (v->mac);
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) mac = NULL;
      g_autoptr (PK11SymKey) mac_key = NULL;

      g_test_message ("%s", v->name);
      g_assert_cmpuint (ike_prf_length (v->prf), ==, g_bytes_get_size (want));
      mac = ike_prf (v->prf, key, (const guint8 *) v->data, strlen (v->data), &error);
      g_assert_no_error (error);
      assert_bytes (mac, want);
      mac_key = ike_prf_key (v->prf, key, (const guint8 *) v->data, strlen (v->data), &error);
      g_assert_no_error (error);
      assert_key (mac_key, want);
    }
}

static void
test_prf_unsupported (void)
{
  g_autoptr (PK11SymKey) key = key_from_hex (KEY_JEFE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) mac = NULL;

  g_assert_cmpuint (ike_prf_length (IKE_PRF_HMAC_MD5), ==, 0);
  g_assert_cmpuint (ike_prf_length (IKE_PRF_AES128_XCBC), ==, 0);
  mac = ike_prf (IKE_PRF_HMAC_MD5, key, (const guint8 *) "x", 1, &error);
  g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_UNSUPPORTED);
  g_assert_null (mac);
}

/* prf+ against its definition (RFC 7296 §2.13), built from the public PRF:
 * T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n). */
static void
test_prf_plus_definition (void)
{
  g_autoptr (PK11SymKey) key = key_from_hex (KEY_JEFE);
  g_autoptr (GByteArray) want = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (PK11SymKey) out = NULL;
  g_autoptr (GBytes) want_bytes = NULL;
  const guint8 seed[] = "seed octets";
  g_autoptr (GBytes) block = NULL;

  for (guint8 n = 1; n <= 3; n++)
    {
      g_autoptr (GByteArray) input = g_byte_array_new ();
      g_autoptr (GBytes) next = NULL;

      if (block != NULL)
        g_byte_array_append (input, g_bytes_get_data (block, NULL), 48);
      g_byte_array_append (input, seed, sizeof seed);
      g_byte_array_append (input, &n, 1);
      next = ike_prf (IKE_PRF_HMAC_SHA2_384, key, input->data, input->len, &error);
      g_assert_no_error (error);
      g_byte_array_append (want, g_bytes_get_data (next, NULL), 48);
      g_clear_pointer (&block, g_bytes_unref);
      block = g_steal_pointer (&next);
    }
  /* 100 bytes: two whole blocks and part of the third. */
  out = ike_prf_plus (IKE_PRF_HMAC_SHA2_384, key, NULL, seed, sizeof seed, 100, &error);
  g_assert_no_error (error);
  want_bytes = g_bytes_new (want->data, want->len);
  assert_key_part (out, want_bytes, 0, 100);
}

static void
test_prf_plus_limits (void)
{
  g_autoptr (PK11SymKey) key = key_from_hex (KEY_JEFE);
  g_autoptr (GError) error = NULL;
  g_autoptr (PK11SymKey) most = NULL;
  g_autoptr (PK11SymKey) too_much = NULL;
  g_autoptr (PK11SymKey) no_seed = NULL;

  /* The block counter is one octet: 255 blocks and not one byte more. */
  most = ike_prf_plus (IKE_PRF_HMAC_SHA2_256, key, NULL, (const guint8 *) "s", 1, 255 * 32, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ike_symkey_length (most), ==, 255 * 32);
  too_much = ike_prf_plus (IKE_PRF_HMAC_SHA2_256, key, NULL, (const guint8 *) "s", 1, 255 * 32 + 1,
                           &error);
  g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID);
  g_assert_null (too_much);
  g_clear_error (&error);
  no_seed = ike_prf_plus (IKE_PRF_HMAC_SHA2_256, key, NULL, NULL, 0, 32, &error);
  g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID);
  g_assert_null (no_seed);
}

/* ---- IKEv2 KDF (SP 800-135 §4.1.2) ---- */

typedef struct
{
  const char *source;
  IkePrfId prf;
  const char *ni, *nr, *g_ir, *g_ir_new, *spi_i, *spi_r;
  const char *skeyseed;
  const char *dkm; /* prf+(SKEYSEED, Ni | Nr | SPIi | SPIr); SK_d is its start */
  const char *dkm_child;
  const char *dkm_child_dh;
  const char *skeyseed_rekey;
} KdfVector;

static const KdfVector kdf_vectors[] = {
  /* NIST ACVP sample for kdf-components-ikev2 (usnistgov/ACVP-Server), as
   * OpenSSL's self-test data carries it (test/recipes/30-test_evp_data/
   * evpkdf_ikev2.txt, "self_test_data.c").  Every output of the KDF. */
  {
      "ACVP SHA-256",
      IKE_PRF_HMAC_SHA2_256,
      "3651FEF5C9C35E93",
      "C09A8B90A3F04D59",
      "D084A30166A50FB7325C3960874A839449EF9741C2F4F947D0201DD8C1269273"
      "D79509F37E3CA3EB4FA2FE2A28254E289CD3F34DAD4EB4DF1A07685A4B8A94FA"
      "61E2491F7598B3CE65547FF133B3F63D1AC4175EAA695033F3CEDB026A6873A3"
      "6455172A8540B8A5D23A0143BED0390EE49B168269D75FFFEE9FB62BE965993C",
      "52F00AB174C25D5B7139AE5FF4E8E9EDDEE5992D2E36ADF8A559FFD90DAB1442"
      "E4FBE429D320C0F33552A17D1557FA41EA70E8FB916C4FA27ED52B5F8EBD8461"
      "AFA78F1159159A64055AC5F6319E29C28EAE58CBC6847770F32C3FED1D047504"
      "84F854790F95E9EC01BC5BC461F24966462E359511329305038E94DEB6DD42C2",
      "8E5C3AE507221684",
      "B1F201BB155C3ACD",
      "EFAA7AB0EAA85A3D0BE2100CD4B6FE00FF5025A9EAFDDB3EF518E9F0D3FE60E6",
      "462B9DD525D4FD71169174272779E704BAF62C6231779AE9EFE8C58B21916B42"
      "010164AF2111EBD762F6916CA9A6F0EE05C8B320E4EE27705521DE2589ADEA18"
      "78F1A551738AF7C88DC4F0BB0C096A3F7D1F1A670FC79F49F678D60D665BB371"
      "0C8657F03BA9F62B9A818D7A228968C506E237AE9502AA6DB395C61EA6A3E795"
      "04F86B7368BFB5423DF79E48809BBCCD49FD826D024F63D7C2A5566400A12E73"
      "6AA034510428F5EA008FE2FC16886FA388274EA6C2B4FCFC6141BF04F8207EF8"
      "AFC224EA1059CB220DC0B23AC0E4CCDA495A4E131B1D56E223ABA5A48E8ED1F5",
      "23647677E7D403FA1E3006F19840AEE18AD9FECC4215814C4131BDEBA98433D8"
      "B0E31BFBBDDF822ABCCE5E06486AA388022B75E27E1E68AA5983028B65282C73"
      "0C5D49EF7606770376CFDEC41F7CC435D816029989BC353D3B67B9FD1168DDCB"
      "8978850DA9B752AEE6A30D0086D2C4D74EC0E03648A0DAD334FAF5FE88084E67"
      "B0F3E8FEE8B5E1BD3850DB540F1FB8CFFE23C9E92CDA209373F354880C246C75"
      "3E2A0ECA9CB73B9910A8531C4010E6768FA29F909E60AF777FED6E739C3CFDA0"
      "3467E915D6F03FCE9C41F5F9D578F8912D66A75457E79EE1D5BCC2BE5C2F9BAE",
      "6A919387A5FA2835FE8A8237E4A14845BD2B9930DB87EFF7ADF268F621860049"
      "02DBA9AA942D0259A0EDC4120B932A503865B57BA8FB88117EF5DF7B26799CD8"
      "BA37AA5438108CB1A4FE117907C9D0597B708C3F11151FEFD624D2317202B7C8"
      "1430600E6FCBB6E1A8DF2B4861EF2363D53DE1BE69057B0CF6634A7E7BFA97B3"
      "C2810623E2BD6757738777177036E9C3A39794456954BD41FC444A12507AB9CA"
      "C69A0540D13C29DB8510F566A691691BAA2D9569DACC990D56A454BB444BCBBE"
      "8751B0550A5278812FC5AB4F28990DD6D608538D7DDDE24DC81BDAACA7751FDE",
      "90722C42BD849E9B72D240FC254174270FA8295DE6F0338DAFC303A9EC104F12",
  },
  /* NIST CAVS sample vectors for the IKEv2 KDF, as NSS's gtests carry them
   * (gtests/common/testvectors/ike-sha384-vectors.h, cases 6-8). */
  {
      "CAVS SHA-384",
      IKE_PRF_HMAC_SHA2_384,
      "fd1b572a8e735591",
      "6013b0ef88dacd3d",
      "d3288cd87565101e88fe3bad918f31939d8dd26ff1071f8b2d7f447524e58d7c",
      "3358f620539473aee8d07e779764c4c6a9aabddc79a28e136b3bac021dbde44a",
      "2116ad07ce61f749",
      "24880e55f11a65b7",
      "69fe7a1ac94adaeb711295f5fe004b1a8d6a0b65d05692758ce8ad2f7a45f59d"
      "7d0b596f51f7dfcf3330061888f6a94f",
      "4f904c2025c90c817ea5ff9b662a6fdb445a73b57cdf09eacd379b95e1f03cac"
      "b04cd6deeda4f952191dd9bc1f7a9502471a648d74dc06d38112de48a42501f6"
      "b1a3ad55c2099cd9a648e5f17e5bf3e34bf9b5953decb768a34f875fe2b78dca"
      "0c2fcca81ec1a412006dfaed38fa06882e61f4c148105fb8e231fdb33c4d484c"
      "001721d4",
      NULL,
      NULL,
      "e0548c1682e13bce454026b3b1bdf42985b24e4e7408095a7c529de38c3d1fcb"
      "04c9fe6868042a34c9614c6c99e3fcea",
  },
  /* NIST ACVP sample, tgId 13, tcId 241 (OpenSSL's evpkdf_ikev2.txt):
   * 256-byte nonces; the DKM is checked through SK_d, its first 64 bytes. */
  {
      "ACVP SHA-512",
      IKE_PRF_HMAC_SHA2_512,
      "834EA4753E9A06832072FA15E89E799035A1285CE241CAF3B5C724ECE8ECD0D2"
      "D1AC46FAB3D9D86BF2EBF4CC8F93E06C5342415E14DFCBC949574E1606F96F14"
      "3E8AA8C80BCCD376FF3D3BAE0B134A04DD2AE557010E5D7A7552C6864FD8A82D"
      "99FFDFDA97BE97389A426D7259411B10DD9EEFAE2709141E654087A2056EB86D"
      "AF95EF262328A2CDD90C61152DC2BBFCF4CCF4084557C3892603023A8B7045FC"
      "589A35143E10DCD1A73406EA923B21687A12134B6A1007E4AA2E37FFFA4901DF"
      "F6F3514E2B350F08175E194D3C6DB75E03FD838D503CEFA9E9604A4E18F330C0"
      "8142574A992465FEA063875ABAF144F47C50F32A0A83224E3EEA739033AF6B9F",
      "F833709DE457FB58ABE1D26E8DECC8FE889D503954C4812AC0F41271394AF7C1"
      "48B15A241C2D6D6502C3C57DAE854A97BFB3CCDCEC650153578CCB51BDFE1C71"
      "5E81F3D78488B1547A3C9E5617D9B78B46D06F56BB56423C88DEACCD82E7A2A1"
      "1ADD56651091682F0987332EA28A32045A4D39609F364EB5E70468ECB7BBDCAD"
      "6B41E04ADD11D97F300E8D0A0C2941F1CB64885F940EE2FA273477E910983E96"
      "913F58E37BFD68E3ADCD6E813176E95FEE7985F5526EEDC3245C4746F5864D9E"
      "90BF80F6882F6A505ADACD81D106576F7A6C705E37CE551235E012E64EC3BE7B"
      "4F3F8889E664CC5ED7BCC4A88022A437439609B3019CDE1948665A548E420D1E",
      "9566A04BF95F433C6497B3AE8CB0F600043F8438EB2B9E97E912AF1C5ACE9A73"
      "A8884BF1FF80A895EB97A6F5494B6CEA5B1C3123C3A9CBE057A0CBA2F52FD40A"
      "8DFDF9F99B521D356347E2B70CF637B5B4A44C2ED92770A281E6431CB50BDDCE"
      "4FB2EC8100218FA84B0A4A344C4DC79BBC81ADD2FD23BC797EFA1B2AFA6840AD"
      "7B2E04D391F33662774A5296A0EF9C9C113E84F5B958FD54857E75378406F29D"
      "A1EB23E9E9D9D94177672BFA7742F7F4319F31ED06E1999E17EEAC6B35ADC9A2"
      "45CAD998E3CE3C422B8AD752F7144332E9AAE44EA837677A8406B7261C04CB4E"
      "B9230FBA75E09E16EEDA246D5B1DA5CF14C96F00FC83C555854E7982E52A1D4F",
      "F34450EC9F4B07881FF17DB4AE1681B26F2FC8CBECDB7EF0463B09C4FE79F841"
      "4FBEA9FD3E7C18C845D04E283E1EEB7824484C72354A7A9C418E69B8134D596E"
      "1ABCD2998EA5FABCA1FD156678BF7FB0F31C1158E812FD215837A23938BAC55B"
      "37C6E8BECEDF9435A03484326CD2D4E3C7A273D8A99135027AA17823DA9BF026"
      "3082394CA3475266F5BAE91D1577C3D15A7DD429E1F5DE70138B05214589EF8A"
      "519AA930A42F609CCC54CE8701488E80C2BEACCA2542C0D9B2DD7C04E41EBBC3"
      "41EB65A3F786900747FA6CA2CF914E908FEA40014D3175B73DA1B63437A89638"
      "F69E184FD91E6A02C0F9FC9AFAFE7B6811B3AC7A57B2615A3B3FC26289500143",
      "6E5F49D279F4FBBB",
      "FF7AE472AA4DD7AF",
      "3DAA296C25DD8CBDE8E9F5FE85498CB06339FC7AAA93F60987831A0FA79829E2"
      "44AFE92BD66590D8C7F1BC281BADC619ED2C9762FDB913B052842E50E3989863",
      "2BD66826C397A19618E3133ACE96F6168A04EF9AFA53F2F07CECDA9E0F6139C3"
      "7CC6512551F523006B74D501C5DD1AE502689ECE8A43CE7B3D866C7372176B1D",
      NULL,
      NULL,
      "1CC9237EBB1704D703952B6EDBE275CA51AC17E2E224F13E38F4C49F5FA9AF00"
      "F8ECB96FA0ECD6FF282C08A29D3E313AB4A4EE1022580118B8DEFF0CD8432A00",
  },
  /* NIST CAVS sample for HMAC-SHA1, as libreswan's self-tests carry it
   * (hmac_sha1_kdf_tests, "CAVP: IKEv2 key derivation with HMAC-SHA1"). */
  {
      "CAVS SHA-1",
      IKE_PRF_HMAC_SHA1,
      "32b50d5f4a3763f3",
      "9206a04b26564cb1",
      "4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52",
      "863f3c9d06efd39d2b907b97f8699e5dd5251ef64a2a176f36ee40c87d4f9330",
      "34c9e7c188868785",
      "3ff77d760d2b2199",
      "a9a7b222b59f8f48645f28a1db5b5f5d7479cba7",
      "a14293677cc80ff8f9cc0eee30d895da9d8f405666e30ef0dfcb63c634a46002"
      "a2a63080e514a062768b76606f9fa5e992204fc5a670bde3f10d6b027113936a"
      "5c55b648a194ae587b0088d52204b702c979fa280870d2ed41efa9c549fd1119"
      "8af1670b143d384bd275c5f594cf266b05ebadca855e4249520a441a81157435"
      "a7a56cc4",
      NULL,
      NULL,
      "63e81194946ebd05df7df5ebf5d8750056bf1f1d",
  },
};

static void
check_kdf_vector (const KdfVector *v)
{
  gsize prf_len = ike_prf_length (v->prf);
  g_autoptr (GBytes) ni = hex (v->ni);
  g_autoptr (GBytes) nr = hex (v->nr);
  g_autoptr (GBytes) spi_i = hex (v->spi_i);
  g_autoptr (GBytes) spi_r = hex (v->spi_r);
  g_autoptr (GBytes) dkm = hex (v->dkm);
  g_autoptr (GByteArray) seed = g_byte_array_new ();
  g_autoptr (PK11SymKey) g_ir = key_from_hex (v->g_ir);
  g_autoptr (PK11SymKey) g_ir_new = key_from_hex (v->g_ir_new);
  g_autoptr (GError) error = NULL;
  g_autoptr (PK11SymKey) skeyseed = NULL;
  g_autoptr (PK11SymKey) keymat = NULL;
  g_autoptr (PK11SymKey) sk_d = NULL;
  g_autoptr (PK11SymKey) rekeyed = NULL;

  g_test_message ("%s", v->source);
  skeyseed = ike_skeyseed (v->prf, g_ir, ni, nr, &error);
  g_assert_no_error (error);
  assert_key_hex (skeyseed, v->skeyseed);

  for (GBytes *part[] = { ni, nr, spi_i, spi_r }, **p = part; p < part + 4; p++)
    g_byte_array_append (seed, g_bytes_get_data (*p, NULL), (guint) g_bytes_get_size (*p));
  keymat = ike_prf_plus (v->prf, skeyseed, NULL, seed->data, seed->len, g_bytes_get_size (dkm),
                         &error);
  g_assert_no_error (error);
  assert_key (keymat, dkm);

  sk_d = ike_symkey_slice (keymat, 0, prf_len, &error);
  g_assert_no_error (error);
  rekeyed = ike_skeyseed_rekey (v->prf, sk_d, g_ir_new, ni, nr, &error);
  g_assert_no_error (error);
  assert_key_hex (rekeyed, v->skeyseed_rekey);

  for (int pfs = 0; pfs <= 1; pfs++)
    {
      const char *want_hex = pfs ? v->dkm_child_dh : v->dkm_child;
      g_autoptr (GBytes) want = NULL;
      g_autoptr (PK11SymKey) child = NULL;

      if (want_hex == NULL)
        continue;
      want = hex (want_hex);
      child = ike_child_keymat (v->prf, sk_d, pfs ? g_ir_new : NULL, ni, nr,
                                g_bytes_get_size (want), &error);
      g_assert_no_error (error);
      assert_key (child, want);
    }
}

static void
test_kdf_vectors (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (kdf_vectors); i++)
    check_kdf_vector (&kdf_vectors[i]);
}

/* The seven keys are cut from the published DKM in RFC 7296 §2.14's order,
 * at the lengths of the negotiated algorithms. */
static void
check_sa_key_split (const IkeCipherSpec *spec, gsize encr_len, gsize integ_len)
{
  const KdfVector *v = &kdf_vectors[0];
  g_autoptr (GBytes) ni = hex (v->ni);
  g_autoptr (GBytes) nr = hex (v->nr);
  g_autoptr (GBytes) spi_i = hex (v->spi_i);
  g_autoptr (GBytes) spi_r = hex (v->spi_r);
  g_autoptr (GBytes) dkm = hex (v->dkm);
  g_autoptr (PK11SymKey) skeyseed = key_from_hex (v->skeyseed);
  g_auto (IkeSaKeys) keys = { 0 };
  g_autoptr (GError) error = NULL;
  gsize at = 0;

  g_assert_true (ike_sa_keys_derive (&keys, v->prf, spec, skeyseed, ni, nr,
                                     g_bytes_get_data (spi_i, NULL), g_bytes_get_data (spi_r, NULL),
                                     &error));
  g_assert_no_error (error);
  assert_key_part (keys.sk_d, dkm, at, 32), at += 32;
  if (integ_len > 0)
    {
      assert_key_part (keys.sk_ai, dkm, at, integ_len), at += integ_len;
      assert_key_part (keys.sk_ar, dkm, at, integ_len), at += integ_len;
    }
  else
    {
      g_assert_null (keys.sk_ai);
      g_assert_null (keys.sk_ar);
    }
  assert_key_part (keys.sk_ei, dkm, at, encr_len), at += encr_len;
  assert_key_part (keys.sk_er, dkm, at, encr_len), at += encr_len;
  assert_key_part (keys.sk_pi, dkm, at, 32), at += 32;
  assert_key_part (keys.sk_pr, dkm, at, 32);
}

static void
test_sa_keys_aead (void)
{
  /* AES-GCM-16 with a 256-bit key: SK_e is 32 + 4 bytes of salt, no SK_a. */
  const IkeCipherSpec gcm = { IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE };
  const IkeCipherSpec chacha = { IKE_ENCR_CHACHA20_POLY1305, 0, IKE_INTEG_NONE };

  check_sa_key_split (&gcm, 36, 0);
  check_sa_key_split (&chacha, 36, 0);
}

static void
test_sa_keys_cbc (void)
{
  const IkeCipherSpec cbc = { IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128 };
  const IkeCipherSpec cbc128 = { IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128 };

  check_sa_key_split (&cbc, 32, 32);
  check_sa_key_split (&cbc128, 16, 32);
}

static void
test_sa_keys_refused (void)
{
  const KdfVector *v = &kdf_vectors[0];
  g_autoptr (GBytes) ni = hex (v->ni);
  g_autoptr (GBytes) nr = hex (v->nr);
  g_autoptr (PK11SymKey) skeyseed = key_from_hex (v->skeyseed);
  const guint8 spi[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  const IkeCipherSpec bad[] = {
    { IKE_ENCR_AES_CBC, 256, IKE_INTEG_NONE },                 /* no integrity */
    { IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_HMAC_SHA2_256_128 }, /* AEAD with integrity */
    { IKE_ENCR_AES_GCM_16, 100, IKE_INTEG_NONE },              /* no such key size */
    { IKE_ENCR_3DES, 0, IKE_INTEG_HMAC_SHA2_256_128 },         /* not offered */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_auto (IkeSaKeys) keys = { 0 };
      g_autoptr (GError) error = NULL;

      g_assert_false (
          ike_sa_keys_derive (&keys, v->prf, &bad[i], skeyseed, ni, nr, spi, spi, &error));
      g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_UNSUPPORTED);
      g_assert_null (keys.sk_d);
    }
}

/* ESP keys come out of the published Child SA DKM in §2.17's order. */
static void
check_child_keys (gboolean pfs, const IkeCipherSpec *esp, gsize encr_len, gsize integ_len)
{
  const KdfVector *v = &kdf_vectors[0];
  g_autoptr (GBytes) ni = hex (v->ni);
  g_autoptr (GBytes) nr = hex (v->nr);
  g_autoptr (GBytes) want = hex (pfs ? v->dkm_child_dh : v->dkm_child);
  g_autoptr (GBytes) dkm = hex (v->dkm);
  g_autoptr (PK11SymKey) keymat = key_from_bytes (dkm);
  g_autoptr (PK11SymKey) g_ir_new = key_from_hex (v->g_ir_new);
  g_autoptr (PK11SymKey) sk_d = NULL;
  g_auto (IkeChildKeys) keys = { 0 };
  g_autoptr (GError) error = NULL;
  const guint8 *w = g_bytes_get_data (want, NULL);

  sk_d = ike_symkey_slice (keymat, 0, 32, &error);
  g_assert_no_error (error);
  g_assert_true (
      ike_child_keys_derive (&keys, v->prf, esp, sk_d, pfs ? g_ir_new : NULL, ni, nr, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (keys.encr_i->data, keys.encr_i->len, w, encr_len);
  w += encr_len;
  if (integ_len > 0)
    {
      g_assert_cmpmem (keys.integ_i->data, keys.integ_i->len, w, integ_len);
      w += integ_len;
    }
  g_assert_cmpmem (keys.encr_r->data, keys.encr_r->len, w, encr_len);
  w += encr_len;
  if (integ_len > 0)
    g_assert_cmpmem (keys.integ_r->data, keys.integ_r->len, w, integ_len);
  else
    g_assert_null (keys.integ_r);
}

static void
test_child_keys (void)
{
  const IkeCipherSpec gcm = { IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE };
  const IkeCipherSpec cbc = { IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256 };

  check_child_keys (FALSE, &gcm, 20, 0);
  check_child_keys (TRUE, &gcm, 20, 0);
  check_child_keys (FALSE, &cbc, 32, 64);
  check_child_keys (TRUE, &cbc, 32, 64);
}

static void
test_key_lengths (void)
{
  g_assert_cmpuint (ike_encr_key_length (IKE_ENCR_AES_GCM_16, 128), ==, 20);
  g_assert_cmpuint (ike_encr_key_length (IKE_ENCR_AES_GCM_16, 256), ==, 36);
  g_assert_cmpuint (ike_encr_key_length (IKE_ENCR_CHACHA20_POLY1305, 0), ==, 36);
  g_assert_cmpuint (ike_encr_key_length (IKE_ENCR_AES_CBC, 128), ==, 16);
  g_assert_cmpuint (ike_encr_key_length (IKE_ENCR_AES_CBC, 0), ==, 0);
  g_assert_cmpuint (ike_encr_key_length (IKE_ENCR_3DES, 0), ==, 0);
  g_assert_cmpuint (ike_integ_key_length (IKE_INTEG_HMAC_SHA2_256_128), ==, 32);
  g_assert_cmpuint (ike_integ_key_length (IKE_INTEG_HMAC_SHA2_384_192), ==, 48);
  g_assert_cmpuint (ike_integ_key_length (IKE_INTEG_HMAC_SHA2_512_256), ==, 64);
  g_assert_cmpuint (ike_integ_key_length (IKE_INTEG_NONE), ==, 0);
}

int
main (int argc, char **argv)
{
  crypto_test_init (&argc, &argv);
  g_test_add_func ("/ike-crypto/prf/hmac-vectors", test_hmac_vectors);
  g_test_add_func ("/ike-crypto/prf/unsupported", test_prf_unsupported);
  g_test_add_func ("/ike-crypto/prf/prf-plus-definition", test_prf_plus_definition);
  g_test_add_func ("/ike-crypto/prf/prf-plus-limits", test_prf_plus_limits);
  g_test_add_func ("/ike-crypto/kdf/vectors", test_kdf_vectors);
  g_test_add_func ("/ike-crypto/kdf/sa-keys-aead", test_sa_keys_aead);
  g_test_add_func ("/ike-crypto/kdf/sa-keys-cbc", test_sa_keys_cbc);
  g_test_add_func ("/ike-crypto/kdf/sa-keys-refused", test_sa_keys_refused);
  g_test_add_func ("/ike-crypto/kdf/child-keys", test_child_keys);
  g_test_add_func ("/ike-crypto/kdf/key-lengths", test_key_lengths);
  return crypto_test_run ();
}
