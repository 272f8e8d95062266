# Debian package: `make deb` builds the source and binary packages with
# dpkg-buildpackage from the release tarball (make dist), which becomes
# pam-ssooidc_VERSION.orig.tar.gz, unpacked into build/deb/ with this
# tree's debian/ added (the .debian.tar.xz); the work tree itself stays free
# of debian/.debhelper & co. Leaves build/deb/*.deb, .dsc, .orig.tar.gz,
# .debian.tar.xz, .changes, .buildinfo and build.log.
DEB_DIR := $(BUILD)/deb
DEB_SRC := pam-ssooidc-$(VERSION)
.PHONY: deb
deb: dist
	@rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/unpack
	cp $(DIST_TAR) $(DEB_DIR)/pam-ssooidc_$(VERSION).orig.tar.gz
	tar -C $(DEB_DIR)/unpack -xzf $(DIST_TAR)
	@mv $(DEB_DIR)/unpack/$(DIST) $(DEB_DIR)/$(DEB_SRC) && rmdir $(DEB_DIR)/unpack
	tar -cf - --exclude=.debhelper --exclude=libpam-ssooidc --exclude=tmp --exclude=files \
	    --exclude='*.substvars' --exclude='*.debhelper.log' --exclude=debhelper-build-stamp \
	    debian | tar -C $(DEB_DIR)/$(DEB_SRC) -xf -
	@echo "cd $(DEB_DIR)/$(DEB_SRC) && dpkg-buildpackage -us -uc"
	@if ! (cd $(DEB_DIR)/$(DEB_SRC) && dpkg-buildpackage -us -uc) >$(DEB_DIR)/build.log 2>&1; then \
	  tail -n 40 $(DEB_DIR)/build.log >&2; exit 1; fi
	@rm -rf $(DEB_DIR)/$(DEB_SRC)
	@ls -1 $(DEB_DIR)/*.deb $(DEB_DIR)/*.dsc

help::
	@printf '  %-16s %s\n' \
	  deb 'the Debian source and binary packages from the dist tarball into $(DEB_DIR)/'
