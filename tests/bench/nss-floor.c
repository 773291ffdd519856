/*
 * tests/bench/nss-floor.c: the public-key floor of one full TLS handshake
 * on qnetd's side as NSS computes it on this machine, for the reconnect
 * storm (README "Reconnect storm"). Opens qnetd's NSS DB read-only and
 * times, in CPU time of this one process:
 *   - a signature with the server certificate's key (the handshake's
 *     CertificateVerify, over a SHA-256 digest),
 *   - a verification with the CA certificate's key (the client
 *     certificate's signature),
 *   - a verification with a client key of the type qdevice-net-certutil
 *     makes (-k: the client's CertificateVerify; a throwaway key, since the
 *     client's own is not in qnetd's DB),
 *   - an ephemeral key pair and a derivation, P-256 and X25519 (the key
 *     exchange; the bench reports which group the handshakes negotiate).
 * floor = sign + CA verify + client verify + keygen + derive.
 * A measuring tool, not a daemon: prints to stdout.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cert.h>
#include <keyhi.h>
#include <nss.h>
#include <pk11pub.h>
#include <secoid.h>
#include <prerror.h>

#include "common/utils.h"

#define DEFAULT_SERVER_NICK	"QNetd Cert"
#define DEFAULT_CA_NICK		"QNet CA"
#define DEFAULT_OPS		200

static double
cpu_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *
nss_error(void)
{
	const char *s = PR_ErrorToName(PR_GetError());

	return s != NULL ? s : "unknown NSS error";
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: nss-floor -d NSSDB [-n SERVER_NICK] [-a CA_NICK] [-k rsa|ec] [-c OPS]\n"
	    "  -d NSSDB        qnetd's NSS database (opened read-only)\n"
	    "  -n SERVER_NICK  certificate whose key signs (default \"%s\")\n"
	    "  -a CA_NICK      CA certificate that signed the client certificates (default \"%s\")\n"
	    "  -k rsa|ec       client key type: RSA 2048 or EC P-256 (default rsa)\n"
	    "  -c OPS          operations of each kind timed (default %d)\n",
	    DEFAULT_SERVER_NICK, DEFAULT_CA_NICK, DEFAULT_OPS);
}

/* DER OBJECT IDENTIFIER of a curve: the parameters of an EC key pair generation */
static int
curve_params(SECOidTag curve, SECItem *params)
{
	SECOidData *oid = SECOID_FindOIDByTag(curve);

	if (oid == NULL || oid->oid.len > 127)
		return -1;
	params->type = siBuffer;
	params->len = oid->oid.len + 2;
	params->data = malloc(params->len);
	if (params->data == NULL)
		return -1;
	params->data[0] = SEC_ASN1_OBJECT_ID;
	params->data[1] = (unsigned char)oid->oid.len;
	memcpy(params->data + 2, oid->oid.data, oid->oid.len);
	return 0;
}

static const char *
key_name(const SECKEYPublicKey *pub)
{
	return pub->keyType == rsaKey ? "RSA" : pub->keyType == ecKey ? "EC" : "other";
}

/* Sign ops times (ms per op into sign_ms, unless NULL), then verify ops times. */
static int
time_key(SECKEYPrivateKey *key, SECKEYPublicKey *pub, unsigned ops, double *sign_ms,
    double *verify_ms)
{
	static const char data[] = "qnetd handshake floor";
	unsigned char hash[32];
	SECItem digest = { siBuffer, hash, sizeof(hash) };
	SECItem sig = { siBuffer, NULL, 0 };
	unsigned signs = sign_ms != NULL ? ops : 1;
	int sig_len = PK11_SignatureLen(key);
	double t0;
	int r = -1;

	/* PK11_Sign: PKCS#1 v1.5 (RSA) or raw r|s (ECDSA) over the digest, the private-key op */
	if (sig_len <= 0 || PK11_HashBuf(SEC_OID_SHA256, hash, (const unsigned char *)data,
	    (PRInt32)strlen(data)) != SECSuccess)
		return -1;
	if (SECITEM_AllocItem(NULL, &sig, (unsigned)sig_len) == NULL)
		return -1;
	t0 = cpu_now_s();
	for (unsigned i = 0; i < signs; i++) {
		sig.len = (unsigned)sig_len;
		if (PK11_Sign(key, &sig, &digest) != SECSuccess) {
			fprintf(stderr, "nss-floor: PK11_Sign (%s key): %s\n", key_name(pub),
			    nss_error());
			goto out;
		}
	}
	if (sign_ms != NULL)
		*sign_ms = (cpu_now_s() - t0) * 1e3 / ops;
	t0 = cpu_now_s();
	for (unsigned i = 0; i < ops; i++) {
		if (PK11_Verify(pub, &sig, &digest, NULL) != SECSuccess) {
			fprintf(stderr, "nss-floor: PK11_Verify (%s key): %s\n", key_name(pub),
			    nss_error());
			goto out;
		}
	}
	*verify_ms = (cpu_now_s() - t0) * 1e3 / ops;
	r = 0;
out:
	SECITEM_FreeItem(&sig, PR_FALSE);
	return r;
}

/* A certificate of the DB and its key pair: 0, or -1 with the reason printed */
static int
cert_keys(const char *nick, SECKEYPrivateKey **key, SECKEYPublicKey **pub)
{
	CERTCertificate *cert = PK11_FindCertFromNickname(nick, NULL);

	if (cert == NULL) {
		fprintf(stderr, "nss-floor: no certificate \"%s\": %s\n", nick, nss_error());
		return -1;
	}
	*key = PK11_FindKeyByAnyCert(cert, NULL);
	*pub = CERT_ExtractPublicKey(cert);
	CERT_DestroyCertificate(cert);
	if (*key == NULL || *pub == NULL) {
		fprintf(stderr, "nss-floor: no key pair for \"%s\": %s\n", nick, nss_error());
		return -1;
	}
	return 0;
}

/* A throwaway session key pair like the client's: RSA 2048 (e = 65537) or EC P-256 */
static int
client_like_keys(bool ec, SECKEYPrivateKey **key, SECKEYPublicKey **pub)
{
	PK11SlotInfo *slot = PK11_GetInternalSlot();
	PK11RSAGenParams rsa = { .keySizeInBits = 2048, .pe = 65537 };
	SECItem params = { siBuffer, NULL, 0 };

	*key = NULL;
	if (slot == NULL)
		return -1;
	if (ec) {
		if (curve_params(SEC_OID_ANSIX962_EC_PRIME256V1, &params) == 0)
			*key = PK11_GenerateKeyPair(slot, CKM_EC_KEY_PAIR_GEN, &params, pub,
			    PR_FALSE, PR_FALSE, NULL);
		free(params.data);
	} else {
		*key = PK11_GenerateKeyPair(slot, CKM_RSA_PKCS_KEY_PAIR_GEN, &rsa, pub,
		    PR_FALSE, PR_FALSE, NULL);
	}
	PK11_FreeSlot(slot);
	if (*key == NULL) {
		fprintf(stderr, "nss-floor: client key generation: %s\n", nss_error());
		return -1;
	}
	return 0;
}

/*
 * One ephemeral key pair per op and a shared secret with a fixed peer, as a
 * TLS server does: libssl makes its key shares with SECKEY_CreateECPrivateKey
 * (derive only, session objects) and derives with PK11_PubDeriveWithKDF.
 */
static int
time_ecdh(SECOidTag curve, unsigned ops, double *keygen_ms, double *derive_ms)
{
	SECKEYPrivateKey *peer_priv = NULL, **privs = NULL;
	SECKEYPublicKey *peer_pub = NULL, **pubs = NULL;
	SECItem params = { siBuffer, NULL, 0 };
	double t0;
	int r = -1;

	if (curve_params(curve, &params) != 0)
		goto out;
	privs = calloc(ops, sizeof(*privs));
	pubs = calloc(ops, sizeof(*pubs));
	if (privs == NULL || pubs == NULL)
		goto out;
	peer_priv = SECKEY_CreateECPrivateKey(&params, &peer_pub, NULL);
	if (peer_priv == NULL) {
		fprintf(stderr, "nss-floor: EC key generation: %s\n", nss_error());
		goto out;
	}
	t0 = cpu_now_s();
	for (unsigned i = 0; i < ops; i++) {
		privs[i] = SECKEY_CreateECPrivateKey(&params, &pubs[i], NULL);
		if (privs[i] == NULL) {
			fprintf(stderr, "nss-floor: EC key generation: %s\n", nss_error());
			goto out;
		}
	}
	*keygen_ms = (cpu_now_s() - t0) * 1e3 / ops;
	t0 = cpu_now_s();
	for (unsigned i = 0; i < ops; i++) {
		PK11SymKey *secret = PK11_PubDeriveWithKDF(privs[i], peer_pub, PR_FALSE, NULL,
		    NULL, CKM_ECDH1_DERIVE, CKM_SHA256_HMAC, CKA_DERIVE, 0, CKD_NULL, NULL, NULL);

		if (secret == NULL) {
			fprintf(stderr, "nss-floor: ECDH derive: %s\n", nss_error());
			goto out;
		}
		PK11_FreeSymKey(secret);
	}
	*derive_ms = (cpu_now_s() - t0) * 1e3 / ops;
	r = 0;
out:
	for (unsigned i = 0; privs != NULL && i < ops; i++) {
		if (privs[i] != NULL)
			SECKEY_DestroyPrivateKey(privs[i]);
		if (pubs[i] != NULL)
			SECKEY_DestroyPublicKey(pubs[i]);
	}
	free(privs);
	free(pubs);
	if (peer_priv != NULL)
		SECKEY_DestroyPrivateKey(peer_priv);
	if (peer_pub != NULL)
		SECKEY_DestroyPublicKey(peer_pub);
	free(params.data);
	return r;
}

struct floor_keys {
	SECKEYPrivateKey	*srv_key, *ca_key, *cl_key;
	SECKEYPublicKey		*srv_pub, *ca_pub, *cl_pub;
};

static void
floor_keys_free(struct floor_keys *k)
{
	SECKEYPrivateKey *keys[] = { k->srv_key, k->ca_key, k->cl_key };
	SECKEYPublicKey *pubs[] = { k->srv_pub, k->ca_pub, k->cl_pub };

	for (size_t i = 0; i < 3; i++) {
		if (keys[i] != NULL)
			SECKEY_DestroyPrivateKey(keys[i]);
		if (pubs[i] != NULL)
			SECKEY_DestroyPublicKey(pubs[i]);
	}
}

int
main(int argc, char **argv)
{
	const char *db = NULL, *srv_nick = DEFAULT_SERVER_NICK, *ca_nick = DEFAULT_CA_NICK;
	struct floor_keys k = { 0 };
	double sign_ms = 0, srv_verify_ms = 0, ca_verify_ms = 0, cl_verify_ms = 0;
	double p_keygen_ms = 0, p_derive_ms = 0, x_keygen_ms = 0, x_derive_ms = 0, pk_ms;
	unsigned ops = DEFAULT_OPS;
	bool client_ec = false;
	long long v;
	int c, rc = 1;

	while ((c = getopt(argc, argv, "d:n:a:k:c:h")) != -1) {
		switch (c) {
		case 'd':	db = optarg; break;
		case 'n':	srv_nick = optarg; break;
		case 'a':	ca_nick = optarg; break;
		case 'k':
			if (strcmp(optarg, "rsa") != 0 && strcmp(optarg, "ec") != 0) {
				fprintf(stderr, "nss-floor: -k must be rsa or ec\n");
				return 2;
			}
			client_ec = strcmp(optarg, "ec") == 0;
			break;
		case 'c':
			if (utils_parse_long(optarg, 1, 100000, &v) != 0) {
				fprintf(stderr, "nss-floor: -c must be in 1..100000\n");
				return 2;
			}
			ops = (unsigned)v;
			break;
		case 'h':	usage(stdout); return 0;
		default:	usage(stderr); return 2;
		}
	}
	if (db == NULL || optind < argc) {
		usage(stderr);
		return 2;
	}
	/* read-only and without NSS_Init's OPTIMIZESPACE, as qnetd opens its DB */
	if (NSS_Initialize(db, "", "", SECMOD_DB, NSS_INIT_READONLY) != SECSuccess) {
		fprintf(stderr, "nss-floor: cannot open %s: %s\n", db, nss_error());
		return 1;
	}
	if (cert_keys(srv_nick, &k.srv_key, &k.srv_pub) != 0 ||
	    cert_keys(ca_nick, &k.ca_key, &k.ca_pub) != 0 ||
	    client_like_keys(client_ec, &k.cl_key, &k.cl_pub) != 0)
		goto out;
	if (time_key(k.srv_key, k.srv_pub, ops, &sign_ms, &srv_verify_ms) != 0 ||
	    time_key(k.ca_key, k.ca_pub, ops, NULL, &ca_verify_ms) != 0 ||
	    time_key(k.cl_key, k.cl_pub, ops, NULL, &cl_verify_ms) != 0 ||
	    time_ecdh(SEC_OID_ANSIX962_EC_PRIME256V1, ops, &p_keygen_ms, &p_derive_ms) != 0 ||
	    time_ecdh(SEC_OID_CURVE25519, ops, &x_keygen_ms, &x_derive_ms) != 0)
		goto out;
	pk_ms = sign_ms + ca_verify_ms + cl_verify_ms;
	printf("nss-floor: %u ops each, CPU time of one process: server %s-%u sign %.3f ms; "
	    "CA %s-%u verify %.3f ms; client %s-%u verify %.3f ms; ECDH P-256 keygen %.3f + "
	    "derive %.3f ms; X25519 keygen %.3f + derive %.3f ms; floor (sign + 2 verify + "
	    "keygen + derive) P-256 %.3f ms, X25519 %.3f ms\n", ops, key_name(k.srv_pub),
	    SECKEY_PublicKeyStrengthInBits(k.srv_pub), sign_ms, key_name(k.ca_pub),
	    SECKEY_PublicKeyStrengthInBits(k.ca_pub), ca_verify_ms, key_name(k.cl_pub),
	    SECKEY_PublicKeyStrengthInBits(k.cl_pub), cl_verify_ms, p_keygen_ms, p_derive_ms,
	    x_keygen_ms, x_derive_ms, pk_ms + p_keygen_ms + p_derive_ms,
	    pk_ms + x_keygen_ms + x_derive_ms);
	printf("FLOOR server_key=%s ca_key=%s client_key=%s nss_sign_ms=%.4f "
	    "nss_server_verify_ms=%.4f nss_ca_verify_ms=%.4f nss_client_verify_ms=%.4f "
	    "nss_p256_keygen_ms=%.4f nss_p256_derive_ms=%.4f nss_x25519_keygen_ms=%.4f "
	    "nss_x25519_derive_ms=%.4f floor_nss_p256_ms=%.4f floor_nss_x25519_ms=%.4f\n",
	    k.srv_pub->keyType == ecKey ? "ec" : "rsa", k.ca_pub->keyType == ecKey ? "ec" : "rsa",
	    client_ec ? "ec" : "rsa", sign_ms, srv_verify_ms, ca_verify_ms, cl_verify_ms,
	    p_keygen_ms, p_derive_ms, x_keygen_ms, x_derive_ms,
	    pk_ms + p_keygen_ms + p_derive_ms, pk_ms + x_keygen_ms + x_derive_ms);
	rc = 0;
out:
	floor_keys_free(&k);
	if (NSS_Shutdown() != SECSuccess && rc == 0) {
		fprintf(stderr, "nss-floor: NSS_Shutdown: %s\n", nss_error());
		rc = 1;
	}
	return rc;
}
