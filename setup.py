# Only here for cffi; everything else about the package is in pyproject.toml.
#
# `cffi_modules` turns build_cffi/dahdi_build.py into the pure-Python module
# boardcc.drivers.dahdi._dahdi_cffi while the package is built. cffi writes it into the build
# directory, which is what a wheel needs but not an editable install (`pip install -e`), where
# the build directory is thrown away and the package is imported from the source tree. So in
# editable mode build_py also writes it next to the sources, into drivers/dahdi/ (ignored by
# git, written again whenever the editable install is redone).
import os
import runpy

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
BUILDER = os.path.join("build_cffi", "dahdi_build.py")
PACKAGE, MODULE = "boardcc.drivers.dahdi", "_dahdi_cffi"


class BuildPyWithCffiInPlace(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            ffibuilder = runpy.run_path(os.path.join(HERE, BUILDER))["ffibuilder"]
            target = os.path.join(self.get_package_dir(PACKAGE), MODULE + ".py")
            ffibuilder.emit_python_code(os.path.join(HERE, target))


setup(
    cmdclass={"build_py": BuildPyWithCffiInPlace},
    cffi_modules=[f"{BUILDER}:ffibuilder"],
)
