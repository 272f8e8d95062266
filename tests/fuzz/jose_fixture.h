/* jose_fixture.h - written by tests/fuzz/gen_jose_seeds.py; do not edit.
 * The JWKS the JOSE fuzz targets verify with, tokens valid under it, and
 * the SHA-256 of every header.payload the generator signed: fuzz_jwt
 * checks that no other input of a raw token is ever accepted. The
 * private keys of ec1 and ed1 are for the harness's signing mode only
 * (they protect nothing). */
#ifndef JOSE_FIXTURE_H
#define JOSE_FIXTURE_H

#define FIXTURE_ISS "https://idp.example.com/realms/corp"
#define FIXTURE_CLIENT "pam-client"
#define FIXTURE_NOW 1750000000LL

static const char fixture_jwks[] =
    "{\"keys\":[{\"kid\":\"rsa1\",\"kty\":\"RSA\",\"n\":\"2Ji9NVdOogg3MSUYejwytY6zCr0YEcW2GIabV93W995ZnF3tcw"
    "Xf8luyO7m9gOXksCYt95TFI4pyKqCT_QbmINhphOLSVFOb29a-9WMRHaI--G0Okaa48GrEUCQ6_JLojlQ3G5itPFK8"
    "RM0L5DkgzlG9NThbm4nhHmSeuixokoQb6dwXnnd7D3Rp0E6u5novrVnLPfFHyjzCT6TxnJ4NKsu0JDtmkFdZIXNHVZ"
    "uLAAyM_FjQ0m0CLCZ5kDtuKqguv7DwA4HWJBZZTDibgnlWNGnYAvXJwZnPzt8ppliJbKSlAFbh9Om0kSlI6ry_Rf8_"
    "M28ZPuXhFPOzxeFyoMCIYQ\",\"e\":\"AQAB\",\"use\":\"sig\"},{\"kid\":\"ec1\",\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"
    "\"CuwvsiLmGmNkW4ZHmkE31zWk5scNy8zfrDx3nx2U29M\",\"y\":\"1Dtw1tZmCZMn072-7G0cZWzmpOiq7jp6DjLQTmz"
    "lq-o\"},{\"kid\":\"ec384\",\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"SBmNrvzblgDVMJiWGIJYrP9WgO8ZSBGZUwqKPd"
    "wtKK_gxbGfY8eFHzU-_RYsUn5U\",\"y\":\"rDv6MBswbu5MAiBzsSRLrCI41_7RfxZDqNxGlYW9VOinBUyBXm_VuTFAA"
    "Uzpgmkz\"},{\"kid\":\"ed1\",\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"t2br7VvW4v6Ks9JszVepAA0nQBT_cwxE74"
    "5I_9drgzU\"}]}";

static const char *const fixture_kids[] = {"rsa1", "ec1", "ec384", "ed1"};

static const char fixture_ec1_pem[] =
    "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVuFIBoXQoR50U/"
    "Oi\n5ov6pPDyXdtqaRkXtD8ZBwd27A2hRANCAAQK7C+yIuYaY2RbhkeaQTfXNaTmxw3L\nzN+sPHefHZTb09Q7cNbWZg"
    "mTJ9O9vuxtHGVs5qToqu46eg4y0E5s5avq\n-----END PRIVATE KEY-----\n";

static const char fixture_ed1_pem[] =
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHKaoXm4FeOjrZFKM6n1Wzr25tUiDhiQreaRLP+n9D"
    "zK\n-----END PRIVATE KEY-----\n";

static const char *const fixture_tokens[] = {
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYTEiLCJ0eXAiOiJKV1QifQ.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGx"
    "lLmNvbS9yZWFsbXMvY29ycCIsInN1YiI6IjI0ODI4OTc2MTAwMSIsImF1ZCI6InBhbS1jbGllbnQiLCJleHAiOjE3N"
    "TAwMDM2MDAsImlhdCI6MTc0OTk5OTk5MCwicHJlZmVycmVkX3VzZXJuYW1lIjoiYWxpY2UiLCJncm91cHMiOlsiL2F"
    "kbWlucyIsIi9kZXYiXX0.vDNDzcQAFB6zVt7UFkr-v5g5P1fLlaWy5TAFecQcz5z_ybwHlMNmrH-43o8ru_KyGEJ06"
    "2g-Fl_XG_ROXdOaFx8jGW0goyyjpDuu9POzx8T92QwyfAxi0tBuIm5aL3MiMT06bj68r8_jtA4w9e5nWYifNflegbk"
    "tb_aqQ98F1gw4aIpOBP-8cbCmrngyqTAi3Si5YA_9mgtgRzWOVR7zF2chhHTX0SXSfWq7P2YNHczp1EpLWsC_EqACE"
    "EDwZ22HvJAinH_kgc4mlTWeQpiZrfXE2_oafdh3txC10MdjKJAma43RrUEsbUQL3Rlt2BU6RVlKb9rCmzRt-hB31MM"
    "PMA",
    "eyJhbGciOiJQUzI1NiIsImtpZCI6InJzYTEiLCJ0eXAiOiJKV1QifQ.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGx"
    "lLmNvbS9yZWFsbXMvY29ycCIsInN1YiI6IjI0ODI4OTc2MTAwMSIsImF1ZCI6InBhbS1jbGllbnQiLCJleHAiOjE3N"
    "TAwMDM2MDAsImlhdCI6MTc0OTk5OTk5MCwicHJlZmVycmVkX3VzZXJuYW1lIjoiYWxpY2UiLCJncm91cHMiOlsiL2F"
    "kbWlucyIsIi9kZXYiXX0.XqNpzhxzFmalqKNTq6cdmHzYhRGhPId34J3EDx_yvrSJpPJCIv-chcRltPoVGxy4zeo70"
    "7QWAZPM35Pd2MPigXv_offTS9dcgBXGkVA5aReu0tlYlkoNnCumjvgWDob5jig4W3NfblRsuNggUI5rZ_lWsY0-QdU"
    "Lanl2NTryz2VNthTG23KCbe7Ib3AuC8uM6g_8c5h_DC4BRJpztY395GIRfTIBsMT5xxmxg8QeIhSl8GNhy2_CaLJck"
    "yuKACuPBfHYJXUNjwFQc5aG8zSE0RHHV9VtV9ydb7l1Zj6AqGlrblY_IXUIP_xAdvE4K5gn0pcrr1OpXOocKBow5yN"
    "IJA",
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjMSIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlL"
    "mNvbS9yZWFsbXMvY29ycCIsInN1YiI6IjI0ODI4OTc2MTAwMSIsImF1ZCI6InBhbS1jbGllbnQiLCJleHAiOjE3NTA"
    "wMDM2MDAsImlhdCI6MTc0OTk5OTk5MCwicHJlZmVycmVkX3VzZXJuYW1lIjoiYWxpY2UiLCJncm91cHMiOlsiL2Fkb"
    "WlucyIsIi9kZXYiXX0.64VbuSVHCxtOU2mvunl9xi6O4Yguc66EjHpLXDQYBr1cMWHV6O7Fe617DubQb-bHV_5v6-M"
    "jGKigo4CUqEyHwg",
    "eyJhbGciOiJFUzM4NCIsImtpZCI6ImVjMzg0IiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcG"
    "xlLmNvbS9yZWFsbXMvY29ycCIsInN1YiI6IjI0ODI4OTc2MTAwMSIsImF1ZCI6InBhbS1jbGllbnQiLCJleHAiOjE3"
    "NTAwMDM2MDAsImlhdCI6MTc0OTk5OTk5MCwicHJlZmVycmVkX3VzZXJuYW1lIjoiYWxpY2UiLCJncm91cHMiOlsiL2"
    "FkbWlucyIsIi9kZXYiXX0.hJECgZgo5tW_wKr6WPftITSca05omb1S1YnaCcB7pd7ZvNoRmn8qwiZ4QWYdOL9sprTZ"
    "wjVQWt4MBd67y5tHapStMrm9DpmSzIuD3kDteg-r9NNA9r8h3HKHfI-n_CwC",
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImVkMSIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlL"
    "mNvbS9yZWFsbXMvY29ycCIsInN1YiI6IjI0ODI4OTc2MTAwMSIsImF1ZCI6InBhbS1jbGllbnQiLCJleHAiOjE3NTA"
    "wMDM2MDAsImlhdCI6MTc0OTk5OTk5MCwicHJlZmVycmVkX3VzZXJuYW1lIjoiYWxpY2UiLCJncm91cHMiOlsiL2Fkb"
    "WlucyIsIi9kZXYiXX0.UrgJ1SbVIN9Ue6oKVxqPZHXQhowf0q8OX-L0gKYcWu6aOkWjc6Qz-K7siA78NLmlliR9Rxz"
    "tGBb5H3D31M8lAw"
};

static const char *const fixture_signed_sha256[] = {
    "0430deb728ab99c7bfeda336bddc2f82ce6e0e8d445037572f75ae0ce7849632",
    "3533b453bf712a7fef5b2c4b2d84cd1c1565c8255f299dce491eafd623c3c6ce",
    "39a7ae8fc5144214286dc278625fafcd38134a1230622c82a9baf9d3df678c3b",
    "3dfa48679915e22efaa468d061aac3b49925a06eb8644eb49e8bfeb01fd151ff",
    "45344f42b53498e90fdd2ecc4428e736621bbf1a37553da96e9709bfb433f3f5",
    "7279b0170159ae3d8eeef97e5eb40b1e9c2cf7f88d4ce9bafda96cffff55fd65",
    "75b8dace8a31a7786f300c590bd6a76b96835c48898b96beee3cd0c2e028d742",
    "77244dd771e0288757c8e084af7491435b518f774b79a6b0f36e0b9e331d8911",
    "8673927dc08cd454abddefadda577964da1f4f2b84a3e495165bef20d025b4ba",
    "8c06bd3f5014b3f5cad8eee52779c7b922f53e7d544145f7287895d57b3eed58",
    "93ac327541ccf99716f92792cd48dff7d3ef59e1b8f8e7a445e1542449b8b7b3",
    "9e0a89987b79cfb22d688a6bd5e3632c96ed89f3d61080ae10d436536f9d198d",
    "a5e243e20c2ebffee8f9103580118ebea45a791dc3fff9c04208c0babc4d52ba",
    "b495467a5664004b1382825d380bfd3ee3392ea1e1fe80d7c714f9b29cadd9d3",
    "bf7c8c53479f5d335d157b2d222ca71c5be997431edf548b2d307f439dd7b638",
    "c46d9ec243790e31a44f691b377d59456693626645d11e72bac84e7022432c2b",
    "c937b782113c1a424bbc5254924410af30f9e2e71f860c0e7b0e7c6734e52bbf",
    "d844d481172126d0fa2da8f27b1d827761e95b8879b0642f8f6344dc7ff04400",
    "e29dfb1f8e10ac2f364a2b718463c00970f2690d8cff23f752ad1c05cf2b431d",
    "e2abaee16a05cdb39df21d86cfb3f6d2b96e99c5c7defeb03a084e29e1227a6e",
    "ea88336253cde341c6eb4c1ba81dc8107e696bb8cc11e7c5f58f02839733e871",
    "ef1a9eca22d66730ca349917a1acce94ee9145762fa392bd8ba0585e8f534a7a",
    "f4ee7a6f6029ebbc8055e5051ff46442edc369df1c559807aa7d3f9d66765b95"
};

#endif
