import { descriptor } from "@smpcall/arch-powerpc";
import { runConformanceSuite } from "@smpcall/core/conformance/jest";

for (const platform of [
  "powernv-power8",
  "powernv-power9",
  "pseries-powervm-xive",
  "pseries-powervm-xics",
  "pseries-kvm-xive",
  "pseries-kvm-xics",
  "mpic-2008",
])
  runConformanceSuite(descriptor, {
    options: { platform },
    // An MPIC addresses at most 32 CPUs: mpic-2008 refuses larger machines.
    cpuSizes: platform === "mpic-2008" ? [2, 3, 32] : undefined,
  });
