import { descriptor } from "@smpcall/arch-x86";
import { runConformanceSuite } from "@smpcall/core/conformance/jest";

for (const apic of ["auto", "physflat", "x2apic-phys"])
  runConformanceSuite(descriptor, {
    options: { apic: apic === "physflat" ? "physflat" : apic },
    cpuSizes: apic === "physflat" ? [2, 3, 64, 255] : undefined,
  });
runConformanceSuite(descriptor, { options: { pvIpi: "true" }, cpuSizes: [2, 3, 300] });
