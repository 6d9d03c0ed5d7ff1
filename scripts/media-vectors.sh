#!/usr/bin/env bash
# Media-encryption test vectors (docs/PROFILE.md §8, docs/MEDIA.md), computed with the openssl
# command line alone, so they are an independent check of harness/crypto/media.ts rather than
# its own output played back. Prints JSON on stdout:
#
#   scripts/media-vectors.sh > fixtures/media/vectors.json
#
# harness/crypto/media.test.ts checks that the module reproduces every vector, and, where openssl
# is installed, that this script still prints the committed file byte for byte.
# Needs bash, OpenSSL 3 (`openssl kdf`), od, sed and tr.
set -euo pipefail
export LC_ALL=C

# Bytes on stdin as lowercase hex, one line.
tohex() { od -An -v -tx1 | tr -d ' \n'; }
# Hex as bytes on stdout (bash's printf %b understands \xHH, NUL included).
unhex() { printf '%b' "$(printf '%s' "$1" | sed 's/../\\x&/g')"; }
# Hex of the bytes FROM, FROM+1, ..., TO (decimal, each 0..255).
range() {
  local i out=''
  for ((i = $1; i <= $2; i++)); do out+=$(printf '%02x' "$i"); done
  printf '%s' "$out"
}
ascii() { printf '%s' "$1" | tohex; }

first=1
vector() {
  local name=$1 kind=$2 info=$3 key=$4 plain=$5
  local okm iv ck mk rk ct mac blob enc sha token
  # HKDF-SHA256 with no salt: RFC 5869 then uses HashLen zero bytes, as the profile says.
  okm=$(openssl kdf -keylen 112 -kdfopt digest:SHA256 -kdfopt "hexkey:$key" -kdfopt "info:$info" HKDF |
    tr -d ':\n' | tr 'A-F' 'a-f')
  iv=${okm:0:32} ck=${okm:32:64} mk=${okm:96:64} rk=${okm:160:64}
  ct=$(unhex "$plain" | openssl enc -aes-256-cbc -K "$ck" -iv "$iv" | tohex)
  mac=$(unhex "$iv$ct" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$mk" -binary | tohex)
  mac=${mac:0:20}
  blob=$ct$mac
  enc=$(unhex "$blob" | openssl dgst -sha256 -binary | tohex)
  sha=$(unhex "$plain" | openssl dgst -sha256 -binary | tohex)
  token=$(unhex "$enc" | openssl base64 -A | tr '+/' '-_' | tr -d '=')
  [[ $first == 1 ]] || printf ',\n'
  first=0
  printf '    {\n'
  printf '      "name": "%s",\n      "kind": "%s",\n      "info": "%s",\n' "$name" "$kind" "$info"
  printf '      "mediaKey": "%s",\n      "plaintext": "%s",\n' "$key" "$plain"
  printf '      "iv": "%s",\n      "cipherKey": "%s",\n      "macKey": "%s",\n      "refKey": "%s",\n' \
    "$iv" "$ck" "$mk" "$rk"
  printf '      "mac": "%s",\n      "blob": "%s",\n' "$mac" "$blob"
  printf '      "fileSha256": "%s",\n      "fileEncSha256": "%s",\n' "$sha" "$enc"
  printf '      "fileLength": %d,\n      "uploadToken": "%s"\n' $((${#plain} / 2)) "$token"
  printf '    }'
}

printf '{\n  "about": "Media-encryption vectors made with the openssl command line by scripts/media-vectors.sh; hex unless said.",\n'
printf '  "vectors": [\n'
# The known answer of PROFILE.md §8.3.
vector image-known-answer image 'WhatsApp Image Keys' "$(range 0 31)" "$(ascii 'hello whatsapp interop')"
# Exactly two blocks: PKCS#7 adds a whole block of 0x10.
vector video-two-blocks video 'WhatsApp Video Keys' "$(range 32 63)" "$(ascii 'interop-cert video vector, 32 B!')"
# An empty file still makes one padding block: the shortest valid blob (26 bytes).
vector audio-empty audio 'WhatsApp Audio Keys' "$(range 64 95)" ''
# Every byte value from 0x00 to 0x63, NUL included.
vector document-100-bytes document 'WhatsApp Document Keys' "$(range 96 127)" "$(range 0 99)"
# Same key and file as the known answer: only the info differs, and so does every byte.
vector image-thumbnail-same-key image-thumbnail 'WhatsApp Image Thumbnail Keys' "$(range 0 31)" \
  "$(ascii 'hello whatsapp interop')"
# One byte short of a block.
vector video-thumbnail-15-bytes video-thumbnail 'WhatsApp Video Thumbnail Keys' "$(range 128 159)" \
  "$(ascii 'thumbnail bytes')"
printf '\n  ]\n}\n'
