# Debian package: `make deb` builds it from a clean copy of the tree into
# build/deb/ (the work tree itself stays free of debian/.debhelper & co.).
.PHONY: deb
deb:
	tests/package/build_deb.sh $(BUILD)/deb
	@ls -1 $(BUILD)/deb/*.deb

help::
	@printf '  %-16s %s\n' \
	  deb 'the Debian package into $(BUILD)/deb/ (dpkg-buildpackage; docs/packages.md)'
