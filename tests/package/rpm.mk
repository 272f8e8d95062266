# RPM packages: `make rpm` builds the binary and source RPMs with
# `rpmbuild -ta` from the release tarball (make dist: Source0,
# pam_ssooidc-VERSION.tar.gz, whose rpm/pam_ssooidc.spec rpmbuild reads)
# into build/rpm/ (RPMS/, SRPMS/, build.log). RPMBUILD_ARGS passes options:
#   make rpm RPMBUILD_ARGS='--without qrencode'
# On Debian (docs/packages.md, "make rpm on Debian") three settings more:
# --nodeps (the build dependencies are dpkg packages, which rpm's database
# does not know) and, as on Fedora, documentation in /usr/share/doc/NAME and
# man pages gzipped by brp-compress, a bash script that Debian's rpm would
# run with dash.
RPM_DIR := $(BUILD)/rpm
.PHONY: rpm
rpm: dist
	@rm -rf $(RPM_DIR) && mkdir -p $(RPM_DIR)
	@top=$(abspath $(RPM_DIR)); \
	if [ -f /etc/debian_version ]; then \
	  set -- --nodeps --define "_dbpath $$top/rpmdb" --define '_docdir_fmt %%{NAME}' \
	    --define '__brp_compress /bin/bash %{_rpmconfigdir}/brp-compress %{?_prefix}'; \
	else set --; fi; \
	echo "rpmbuild -ta $$* $(RPMBUILD_ARGS) $(DIST_TAR)"; \
	if ! rpmbuild -ta --define "_topdir $$top" "$$@" $(RPMBUILD_ARGS) $(DIST_TAR) \
	    >$(RPM_DIR)/build.log 2>&1; then tail -n 40 $(RPM_DIR)/build.log >&2; exit 1; fi
	@find $(RPM_DIR)/RPMS $(RPM_DIR)/SRPMS -name '*.rpm' | sort

help::
	@printf '  %-16s %s\n' \
	  rpm 'the RPMs from the dist tarball into $(RPM_DIR)/ (RPMBUILD_ARGS="--without qrencode")'
