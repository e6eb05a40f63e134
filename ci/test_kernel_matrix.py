#!/usr/bin/env python3
"""Unit tests for ci/kernel-matrix's pure parts: Debian version order, kernel
package resolution from a sample Packages index, libtest-mimic JSON parsing,
the summary, JUnit and the table. No network, no root, no VM:

    python3 ci/test_kernel_matrix.py
"""

import importlib.machinery
import importlib.util
import json
import sys
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

_path = Path(__file__).resolve().parent / "kernel-matrix"
_loader = importlib.machinery.SourceFileLoader("kernel_matrix", str(_path))
_spec = importlib.util.spec_from_loader("kernel_matrix", _loader)
km = importlib.util.module_from_spec(_spec)
sys.modules["kernel_matrix"] = km  # dataclasses look their module up there
_loader.exec_module(km)

# Trimmed stanzas in the shape of Debian's amd64 Packages indexes (December 2026).
BOOKWORM_SECURITY = """\
Package: linux-image-6.1.0-56-amd64
Source: linux-signed-amd64 (6.1.190+1)
Version: 6.1.190-1
Depends: kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool

Package: linux-image-6.1.0-57-amd64
Source: linux-signed-amd64 (6.1.192+3)
Version: 6.1.192-3
Depends: kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool
Description: Linux 6.1 for 64-bit PCs (signed)
 The Linux kernel 6.1 and modules for use on PCs with AMD64, Intel 64 or
 VIA Nano processors.

Package: linux-image-6.1.0-57-cloud-amd64
Version: 6.1.192-3
Depends: kmod

Package: linux-image-6.1.0-57-amd64-unsigned
Version: 6.1.192-3
Depends: kmod

Package: linux-image-6.12.118+deb12-amd64
Version: 6.12.118-1~deb12u1
Depends: kmod

Package: hello
Version: 2.10-3
"""

TRIXIE_SECURITY = """\
Package: linux-image-6.12.118+deb13-amd64
Version: 6.12.118-1
Depends: kmod

Package: linux-image-6.12.118+deb13-amd64-dbg
Version: 6.12.118-1
"""

BULLSEYE_SECURITY = """\
Package: linux-image-6.1.0-0.deb11.52-amd64
Version: 6.1.170-1~deb11u1
Depends: kmod
"""

TRIXIE_BACKPORTS = """\
Package: linux-image-7.3.4+deb13-amd64
Source: linux-signed-amd64 (7.3.4+1~bpo13+1)
Version: 7.3.4-1~bpo13+1
Depends: dracut | initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool, linux-base-7.3.4+deb13-amd64 (= 7.3.4-1~bpo13+1), linux-binary-7.3.4+deb13-amd64 (= 7.3.4-1~bpo13+1), linux-modules-7.3.4+deb13-amd64 (= 7.3.4-1~bpo13+1)

Package: linux-binary-7.3.4+deb13-amd64
Version: 7.3.4-1~bpo13+1
Depends: linux-base-7.3.4+deb13-amd64 (= 7.3.4-1~bpo13+1)

Package: linux-modules-7.3.4+deb13-amd64
Version: 7.3.4-1~bpo13+1
Depends: kmod, linux-base-7.3.4+deb13-amd64 (= 7.3.4-1~bpo13+1)

Package: linux-base-7.3.4+deb13-amd64
Version: 7.3.4-1~bpo13+1

Package: linux-image-7.3.4+deb13-cloud-amd64
Version: 7.3.4-1~bpo13+1
Depends: linux-binary-7.3.4+deb13-cloud-amd64 (= 7.3.4-1~bpo13+1)
"""

TRIXIE_BACKPORTS_OLD = """\
Package: linux-image-6.18.15+deb13-amd64
Version: 6.18.15-1~bpo13+1
Depends: dracut | initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool, kmod, linux-base-6.18.15+deb13-amd64 (= 6.18.15-1~bpo13+1)
"""

FORKY = """\
Package: linux-image-7.2.12+deb14-amd64
Version: 7.2.12-1
Depends: linux-base-7.2.12+deb14-amd64 (= 7.2.12-1), linux-binary-7.2.12+deb14-amd64 (= 7.2.12-1), linux-modules-7.2.12+deb14-amd64 (= 7.2.12-1)

Package: linux-binary-7.2.12+deb14-amd64
Version: 7.2.12-1

Package: linux-base-7.2.12+deb14-amd64
Version: 7.2.12-1
"""


def index():
    out = []
    for text, suite in [
        (BOOKWORM_SECURITY, "bookworm-security"),
        (TRIXIE_SECURITY, "trixie-security"),
        (BULLSEYE_SECURITY, "bullseye-security"),
        (TRIXIE_BACKPORTS, "trixie-backports"),
        (TRIXIE_BACKPORTS_OLD, "trixie-backports"),
        (FORKY, "forky"),
    ]:
        out += km.parse_packages(text, suite)
    return out


class DebianVersions(unittest.TestCase):
    def test_order_as_dpkg(self):
        # Each pair: smaller first (checked against `dpkg --compare-versions ... lt`).
        for a, b in [
            ("6.1.192-3~deb11u1", "6.1.192-3"),
            ("7.3.4-1~bpo13+1", "7.3.4-1"),
            ("6.12.118-1~deb12u1", "6.12.118-1"),
            ("6.1.9-1", "6.1.10-1"),
            ("1.0~rc1", "1.0"),
            ("1.0", "1.0a"),
            ("2.0", "1:0.1"),
        ]:
            self.assertLess(km.version_cmp(a, b), 0, f"{a} < {b}")
            self.assertGreater(km.version_cmp(b, a), 0, f"{b} > {a}")
        self.assertEqual(km.version_cmp("1.0", "1.0-0"), 0)


class Resolution(unittest.TestCase):
    def test_index_keeps_only_kernel_packages_with_continuation_lines(self):
        names = {p.name for p in km.parse_packages(BOOKWORM_SECURITY, "s")}
        self.assertIn("linux-image-6.1.0-57-amd64", names)
        self.assertNotIn("hello", names)

    def test_series_picks_newest_generic_across_suites(self):
        r = km.resolve_series(index(), "6.1")
        self.assertEqual(r.release, "6.1.0-57-amd64")
        self.assertEqual(r.packages, ["linux-image-6.1.0-57-amd64=6.1.192-3"])
        self.assertEqual(r.suite, "bookworm-security")

    def test_series_6_12_prefers_the_higher_debian_revision(self):
        r = km.resolve_series(index(), "6.12")
        self.assertEqual(r.release, "6.12.118+deb13-amd64")
        self.assertEqual(r.suite, "trixie-security")

    def test_series_7_takes_split_packages(self):
        r = km.resolve_series(index(), "7")
        self.assertEqual(r.release, "7.3.4+deb13-amd64")
        self.assertEqual(
            sorted(r.packages),
            sorted(
                f"linux-{part}-7.3.4+deb13-amd64=7.3.4-1~bpo13+1"
                for part in ["image", "base", "binary", "modules"]
            ),
        )
        self.assertEqual(km.resolve_series(index(), "7.x").release, r.release)

    def test_named_package_and_its_parts(self):
        r = km.resolve_package_arg(index(), "linux-modules-7.3.4+deb13-amd64")
        self.assertEqual(r.packages[0], "linux-image-7.3.4+deb13-amd64=7.3.4-1~bpo13+1")
        r = km.resolve_package_arg(index(), "linux-image-6.1.0-56-amd64")
        self.assertEqual(r.packages, ["linux-image-6.1.0-56-amd64=6.1.190-1"])
        r = km.resolve_package_arg(index(), "linux-image-6.1.0-57-amd64-unsigned")
        self.assertEqual(r.packages, ["linux-image-6.1.0-57-amd64-unsigned=6.1.192-3"])

    def test_split_package_missing_its_part_is_bad_input(self):
        # forky's index above lacks linux-modules-7.2.12+deb14-amd64.
        with self.assertRaisesRegex(km.BadInput, "needs linux-modules-7.2.12"):
            km.resolve_package_arg(index(), "linux-image-7.2.12+deb14-amd64")

    def test_an_old_backport_without_its_base_package_still_resolves(self):
        r = km.resolve_series(index(), "6.18")
        self.assertEqual(r.packages, ["linux-image-6.18.15+deb13-amd64=6.18.15-1~bpo13+1"])
        self.assertEqual(r.missing, ["linux-base-6.18.15+deb13-amd64"])

    def test_bad_names_are_bad_input(self):
        for arg, why in [
            ("linux-image-6.1.0-99-amd64", "unknown package linux-image-6.1.0-99-amd64"),
            ("linux-image-6.1.0-57-cloud-amd64", "cloud and rt flavours lack 9p"),
            ("linux-image-6.1.0-57-arm64", "only amd64"),
            ("hello", "not a kernel package name"),
        ]:
            with self.assertRaisesRegex(km.BadInput, why):
                km.resolve_package_arg(index(), arg)
        with self.assertRaisesRegex(km.BadInput, "no generic amd64 kernel of series 4.19"):
            km.resolve_series(index(), "4.19")


LIBTEST_JSON = r"""
{ "type": "suite", "event": "started", "test_count": 4 }
{ "type": "test", "event": "started", "name": "kernel::pmtu::exception::ipv4" }
a trial's own print, not an event
{ "type": "test", "name": "kernel::pmtu::exception::ipv4", "event": "ok" }
{ "type": "test", "event": "started", "name": "kernel::pmtu::floor::ipv4" }
{ "type": "test", "name": "kernel::pmtu::floor::ipv4", "event": "failed", "stdout": "Error: \"found PMTU 552, expected 1280\nstep: after lowering\"\n" }
{ "type": "test", "name": "kernel::tunnel::wireguard", "event": "ignored" }
{ "type": "suite", "event": "failed", "passed": 1, "failed": 1, "ignored": 1, "measured": 0, "filtered_out": 0, "exec_time": 1.0 }
"""


class Parsing(unittest.TestCase):
    def test_outcomes_and_failure_messages(self):
        res, msgs = km.parse_libtest_json(LIBTEST_JSON, "kernel", 101)
        self.assertEqual(
            res,
            {
                "kernel::pmtu::exception::ipv4": "pass",
                "kernel::pmtu::floor::ipv4": "fail",
                "kernel::tunnel::wireguard": "ignored",
            },
        )
        self.assertEqual(msgs["kernel::pmtu::floor::ipv4"], "found PMTU 552, expected 1280\nstep: after lowering")

    def test_a_crash_is_a_failure_not_a_gap(self):
        # The binary died in the second trial: no outcome, no closing suite event.
        cut = "\n".join(LIBTEST_JSON.strip().splitlines()[:5])
        res, msgs = km.parse_libtest_json(cut, "kernel", 137)
        self.assertEqual(res["kernel::pmtu::exception::ipv4"], "pass")
        self.assertEqual(res["kernel::pmtu::floor::ipv4"], "fail")
        self.assertIn("stopped during this trial (exit 137)", msgs["kernel::pmtu::floor::ipv4"])
        self.assertEqual(res["matrix::kernel::run"], "fail")

    def test_no_output_at_all_is_a_failure(self):
        res, _ = km.parse_libtest_json("", "scenarios", None)
        self.assertEqual(res, {"matrix::scenarios::run": "fail"})


def kernels():
    return [
        {"release": "6.18.44", "seconds": 10, "results": {"kernel::a": "pass", "kernel::b": "ignored",
                                                          "kernel::c": "pass"}},
        {"release": "6.1.0-57-amd64", "seconds": 100.4, "messages": {"kernel::c": "found 1500, expected 1400"},
         "results": {"kernel::a": "pass", "kernel::b": "pass", "kernel::c": "fail"}},
    ]


class Writers(unittest.TestCase):
    def test_summary_shape(self):
        doc = json.loads(json.dumps(km.summary_doc(kernels())))
        self.assertEqual([k["release"] for k in doc["kernels"]], ["6.18.44", "6.1.0-57-amd64"])
        for k in doc["kernels"]:
            self.assertTrue(set(k["results"].values()) <= {"pass", "fail", "ignored"})

    def test_table_puts_differences_first(self):
        lines = km.table(kernels()).splitlines()
        names = [line.split()[0] for line in lines if line.startswith("kernel::")]
        self.assertEqual(names, ["kernel::b", "kernel::c", "kernel::a"])
        row_c = next(line for line in lines if line.startswith("kernel::c"))
        self.assertEqual(row_c.split()[1:], ["pass", "FAIL"])
        self.assertIn("# 2 trial(s) differ between kernels", lines)

    def test_table_marks_a_trial_missing_on_one_kernel(self):
        ks = kernels()
        ks[0]["results"]["kernel::d"] = "pass"
        row = next(line for line in km.table(ks).splitlines() if line.startswith("kernel::d"))
        self.assertEqual(row.split()[1:], ["pass", "-"])

    def test_flaky_is_a_failure_that_passed_alone_and_is_shown_so(self):
        first = {"kernel::a": "fail", "kernel::b": "fail", "kernel::c": "pass"}
        self.assertEqual(km.flaky_trials(first, {"kernel::a": "pass", "kernel::b": "fail"}), ["kernel::a"])
        ks = kernels()
        ks[1]["flaky"] = ["kernel::c"]
        row = next(line for line in km.table(ks).splitlines() if line.startswith("kernel::c"))
        self.assertEqual(row.split()[1:], ["pass", "flaky"])
        self.assertEqual(ks[1]["results"]["kernel::c"], "fail")

    def test_junit(self):
        root = ET.fromstring(km.junit_xml(kernels()[1]))
        suite = root.find("testsuite")
        self.assertEqual((suite.get("tests"), suite.get("failures"), suite.get("skipped")), ("3", "1", "0"))
        failure = root.find(".//testcase[@name='kernel::c']/failure")
        self.assertEqual(failure.get("message"), "found 1500, expected 1400")
        skipped = ET.fromstring(km.junit_xml(kernels()[0])).findall(".//skipped")
        self.assertEqual(len(skipped), 1)


class GuestScript(unittest.TestCase):
    def test_loads_modules_from_the_unpacked_tree_and_times_every_binary(self):
        tests = [("kernel", Path("/t/kernel-1"), Path("/w/harness")), ("scenarios", Path("/t/sc-2"), Path("/w/checks"))]
        script = km.guest_script(Path("/r"), tests, Path("/c/k/6.1.0-57-amd64"), 600, "kernel::ecmp", True)
        self.assertIn("modprobe -d /c/k/6.1.0-57-amd64", script)
        self.assertIn("export MTULAB_REQUIRE_ROOT=1", script)
        self.assertIn("timeout -k 10 600 /t/kernel-1 --format json --color never kernel::ecmp", script)
        self.assertIn("cd /w/checks", script)
        self.assertTrue(script.rstrip().endswith('touch "$R/done"'))

    def test_host_without_root_leaves_require_root_unset(self):
        script = km.guest_script(Path("/r"), [], None, 600, None, False)
        self.assertIn("unset MTULAB_REQUIRE_ROOT", script)
        self.assertIn('if modprobe "$m"', script)


if __name__ == "__main__":
    unittest.main()
