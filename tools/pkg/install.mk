# SPDX-License-Identifier: GPL-2.0
#
# make install and make uninstall; included by the top Makefile.
#
#   make install            install-module, install-udev and install-user
#   make install-module     build xvcpu.ko for KVER and install it into
#                           /lib/modules/KVER/updates, then depmod (not
#                           when DESTDIR is set)
#   make install-udev       the udev rule: /dev/xvcpu is root:kvm, 0660
#   make install-user       libxvcpu (shared, static, pkg-config file), its
#                           headers as <xvcpu/*.h>, xvcpu-run, the man
#                           pages of man/ (whatever man/*.1, *.3, *.4 exist)
#   make uninstall          (and uninstall-module, -udev, -user) remove
#                           what the same install put, with the same
#                           variables
#   make check-pkg          build the Debian packages in a bookworm chroot,
#                           install, check and purge them (tools/pkg/test-deb.sh)
#
# Variables (defaults): DESTDIR, PREFIX (/usr/local), BINDIR, LIBDIR,
# INCLUDEDIR, MANDIR, PKGCONFIGDIR (under PREFIX), UDEVRULESDIR
# (/etc/udev/rules.d), KVER (the running kernel's release), KDIR (its
# build tree: /lib/modules/KVER/build, from the linux-headers package).
# The module is built in build/install/KVER, not in the source tree.

PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
MANDIR		?= $(PREFIX)/share/man
PKGCONFIGDIR	?= $(LIBDIR)/pkgconfig
UDEVRULESDIR	?= /etc/udev/rules.d
KVER		?= $(shell uname -r)
KDIR		?= /lib/modules/$(KVER)/build
MODDIR		:= /lib/modules/$(KVER)/updates
DEPMOD		?= depmod
LDCONFIG	?= ldconfig

XVCPU_VERSION	:= $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' $(TOP)/dkms.conf)
INSTALL_MODBUILD := $(BUILD)/install/$(KVER)
INSTALL_TOOLS	:= $(BUILD)/tools
# SOMAJOR in tools/Makefile
INSTALL_SOMAJOR	:= 1
INSTALL_SOLIB	:= libxvcpu.so.$(INSTALL_SOMAJOR).0.0
INSTALL_HEADERS	:= $(TOP)/uapi/xvcpu.h $(TOP)/include/xvcpu/vmx.h \
		   $(INSTALL_TOOLS)/include/xvcpu/libxvcpu.h
INSTALL_MAN	:= $(wildcard $(TOP)/man/*.1 $(TOP)/man/*.3 $(TOP)/man/*.4)

.PHONY: install install-module install-udev install-user
.PHONY: uninstall uninstall-module uninstall-udev uninstall-user check-pkg

install: install-module install-udev install-user
uninstall: uninstall-module uninstall-udev uninstall-user

install-module:
	@test -n "$(XVCPU_VERSION)" || { echo "no PACKAGE_VERSION in dkms.conf" >&2; exit 1; }
	@test -d "$(KDIR)" || { echo "install-module: no kernel build tree at" \
		"$(KDIR); install the headers of $(KVER) (Debian:" \
		"linux-headers-$(KVER)) or set KVER= or KDIR=" >&2; exit 1; }
	mkdir -p $(INSTALL_MODBUILD)
	cp -a $(TOP)/Kbuild $(TOP)/kmod $(TOP)/uapi $(TOP)/include $(INSTALL_MODBUILD)/
	$(MAKE) -C $(KDIR) M=$(INSTALL_MODBUILD) modules
	install -D -m 0644 $(INSTALL_MODBUILD)/kmod/xvcpu.ko $(DESTDIR)$(MODDIR)/xvcpu.ko
	$(if $(DESTDIR),,$(DEPMOD) -a $(KVER))

uninstall-module:
	rm -f $(DESTDIR)$(MODDIR)/xvcpu.ko
	if [ -d $(DESTDIR)$(MODDIR) ]; then \
		rmdir --ignore-fail-on-non-empty $(DESTDIR)$(MODDIR); fi
	$(if $(DESTDIR),,$(DEPMOD) -a $(KVER))

install-udev:
	install -D -m 0644 $(TOP)/tools/udev/99-xvcpu.rules $(DESTDIR)$(UDEVRULESDIR)/99-xvcpu.rules

uninstall-udev:
	rm -f $(DESTDIR)$(UDEVRULESDIR)/99-xvcpu.rules

install-user:
	$(MAKE) -C $(TOP)/tools system
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(INCLUDEDIR)/xvcpu
	install -m 0755 $(INSTALL_TOOLS)/xvcpu-run/xvcpu-run.shared $(DESTDIR)$(BINDIR)/xvcpu-run
	install -m 0644 $(INSTALL_TOOLS)/lib/$(INSTALL_SOLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(INSTALL_SOLIB) $(DESTDIR)$(LIBDIR)/libxvcpu.so.$(INSTALL_SOMAJOR)
	ln -sf libxvcpu.so.$(INSTALL_SOMAJOR) $(DESTDIR)$(LIBDIR)/libxvcpu.so
	install -m 0644 $(INSTALL_TOOLS)/lib/libxvcpu.a $(DESTDIR)$(LIBDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(XVCPU_VERSION)|' \
		$(TOP)/tools/pkg/libxvcpu.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/libxvcpu.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/libxvcpu.pc
	install -m 0644 $(INSTALL_HEADERS) $(DESTDIR)$(INCLUDEDIR)/xvcpu/
	$(foreach f,$(INSTALL_MAN),install -D -m 0644 $(f) \
		$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(f)))/$(notdir $(f));)
	$(if $(DESTDIR),,$(LDCONFIG))

uninstall-user:
	rm -f $(DESTDIR)$(BINDIR)/xvcpu-run
	rm -f $(DESTDIR)$(LIBDIR)/$(INSTALL_SOLIB) \
		$(DESTDIR)$(LIBDIR)/libxvcpu.so.$(INSTALL_SOMAJOR) \
		$(DESTDIR)$(LIBDIR)/libxvcpu.so $(DESTDIR)$(LIBDIR)/libxvcpu.a
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/libxvcpu.pc
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/xvcpu/,$(notdir $(INSTALL_HEADERS)))
	if [ -d $(DESTDIR)$(INCLUDEDIR)/xvcpu ]; then \
		rmdir --ignore-fail-on-non-empty $(DESTDIR)$(INCLUDEDIR)/xvcpu; fi
	rm -f $(foreach f,$(INSTALL_MAN),\
		$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(f)))/$(notdir $(f)))
	$(if $(DESTDIR),,$(LDCONFIG))

check-pkg:
	$(TOP)/tools/pkg/test-deb.sh
