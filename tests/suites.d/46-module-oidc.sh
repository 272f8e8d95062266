# The module in OpenID mode (issuer=) against the stand-in as a hostile
# OpenID provider (tests/standin/standin.py --mode oidc): every token,
# document and answer a provider could get wrong on purpose must end in
# anything but PAM_SUCCESS, with the PAM code, what the person saw, the
# outcome line's reason and the absence of secrets checked each time; plus
# the good paths, client authentication, key rotation, the document cache
# and configuration refusals (tests/module/test_module_oidc.py). Plain and
# ASan about 55 s each on two cores when alone; the valgrind run (the memcheck
# sample: every code path once per provider) starts earlier, in the background
# (05-module-valgrind.sh), beside the AWS one. Needs pamtester, pam_wrapper, nss_wrapper,
# python3-cryptography and valgrind (tests/deps.sh).
# Sourced by tests/run_all.sh, which defines `suite` and $PY.
# Both in the background, as module and module-asan (30-module.sh).
suite_background module-oidc "$PY" tests/module/test_module_oidc.py pam_ssooidc/pam_ssooidc.so \
    --jobs 6
suite_background module-oidc-asan "$PY" tests/module/test_module_oidc.py \
    build/asan/pam_ssooidc.so --wrap asan --jobs 8
