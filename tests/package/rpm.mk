# RPM packages: `make rpm` builds the binary and source RPMs from a tarball
# of the tree into build/rpm/ (RPMS/, SRPMS/), with rpmbuild --nodeps on
# Debian (docs/packages.md). RPMBUILD_ARGS passes options, e.g.
#   make rpm RPMBUILD_ARGS='--without qrencode'
.PHONY: rpm
rpm:
	tests/package/build_rpm.sh $(BUILD)/rpm $(RPMBUILD_ARGS)
	@find $(BUILD)/rpm/RPMS $(BUILD)/rpm/SRPMS -name '*.rpm' | sort

help::
	@printf '  %-16s %s\n' \
	  rpm 'the RPMs into $(BUILD)/rpm/ (RPMBUILD_ARGS="--without qrencode")'
