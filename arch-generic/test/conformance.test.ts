import { descriptor } from "@smpcall/arch-generic";
import { runConformanceSuite } from "@smpcall/core/conformance/jest";

runConformanceSuite(descriptor);
