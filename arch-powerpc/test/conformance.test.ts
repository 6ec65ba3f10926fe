import { descriptor } from "@smpcall/arch-powerpc";
import { runConformanceSuite } from "@smpcall/core/conformance/jest";

for (const platform of ["powernv-xics", "powernv-xive", "pseries", "mpic-2008"])
  runConformanceSuite(descriptor, { options: { platform } });
