# Shared by deploy/ci/check-*.sh (sourced; expects $repo and a fail function).

PYYAML_VERSION=6.0.2

# Prints a python3 that can `import yaml`: the system's, else one from a venv in .cache/venv.
python_with_yaml() {
  if python3 -c 'import yaml' 2>/dev/null; then echo python3; return; fi
  local py="$repo/.cache/venv/bin/python"
  if ! "$py" -c 'import yaml' 2>/dev/null; then
    echo "installing PyYAML $PYYAML_VERSION into .cache/venv" >&2
    python3 -m venv "$repo/.cache/venv" >&2 || fail "python3 cannot create a venv (Debian: apt-get install python3-venv)."
    "$repo/.cache/venv/bin/pip" install --quiet --disable-pip-version-check "PyYAML==$PYYAML_VERSION" >&2 \
      || fail "could not install PyYAML $PYYAML_VERSION from PyPI."
  fi
  echo "$py"
}
