#!/usr/bin/env bash
# generate.sh: build Prompts/<language>/<name>.wav from Prompts/prompts.tsv.
#
# Usage: Prompts/generate.sh            regenerate every prompt, then verify
#        Prompts/generate.sh --check    verify the committed files only (no synthesis)
#
# Output contract (checked at the end; exit status 1 if any check fails):
#   * RIFF/WAVE, plain PCM (format tag 1), 44-byte header, 8000 Hz, mono, 16-bit signed
#   * peak normalised to -3 dBFS, not silent (RMS well above 0)
#   * leading silence trimmed to 150 ms and trailing silence set to 200 ms
#     (digit_* and the say fragments num_*, ord_*, month_*, weekday_*, date_*, time_*:
#     50 ms each side; bench_key3: 100 ms lead, trailing silence fills 1.5 s)
#   * a text starting with [tones] is not spoken: it is the waiting music made with sox
#   * length contracts: bench_menu 2.5-4.0 s, bench_key3 1.5 s +/- 0.1 s,
#     policy_line 4.0-6.0 s, digit_* <= 0.8 s, say fragments <= 1.5 s
#   * every name in prompts.tsv exists in every language directory
# The output is reproducible: the same inputs and tool versions give the same bytes
# (sox runs with -R, so dither is seeded and no time stamps are written).
set -euo pipefail
export LC_ALL=C.UTF-8

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tsv=$here/prompts.tsv

# ---- settings ----------------------------------------------------------------------
readonly RATE=8000
readonly PEAK_DB=-3           # normalisation target, dBFS peak
readonly LEAD=0.150           # seconds of silence before speech
readonly TRAIL=0.200          # seconds of silence after speech
readonly DIGIT_PAD=0.050      # lead and trail for digit_* prompts
readonly SEG_GAP=0.350        # pause between [zh]/[en] segments of one prompt
readonly SILENCE=-55d         # below this level counts as silence when trimming
readonly MAX_SPEEDUP=1.70     # max espeak-ng speed factor used to meet a length contract
readonly MAX_TEMPO=1.30       # max extra time-stretch (sox tempo) after that
readonly MIN_RMS=0.01         # a prompt quieter than this (linear RMS) counts as silent

voice() {                     # espeak-ng voice for a language code
    case $1 in
        # cmn-latn-pinyin is the Mandarin voice (zh-cmn). The plain "cmn" voice of
        # espeak-ng 1.51 reads its dictionary's pinyin aloud as English letters.
        zh) echo cmn-latn-pinyin ;;
        en) echo en-us ;;
        *) return 1 ;;
    esac
}
speed() {                     # espeak-ng -s (words per minute)
    case $1 in zh) echo 160 ;; en) echo 160 ;; *) return 1 ;; esac
}
contract() {                  # prints "min max target" in seconds, "-" = none
    case $1 in
        bench_menu)  echo "2.5 4.0 -" ;;
        bench_key3)  echo "1.4 1.6 1.5" ;;
        policy_line) echo "4.0 6.0 -" ;;
        digit_*)     echo "- 0.8 -" ;;
        num_*|ord_*|month_*|weekday_*|date_*|time_*) echo "- 1.5 -" ;;   # say fragments
        *)           echo "- - -" ;;
    esac
}
pads() {                      # prints "lead trail" in seconds (trail is a minimum
    case $1 in                # when the prompt has an exact target length)
        # say strings fragments together; tight edges keep "一千零五" one phrase
        digit_*|num_*|ord_*|month_*|weekday_*|date_*|time_*) echo "$DIGIT_PAD $DIGIT_PAD" ;;
        bench_key3) echo "0.100 0.100" ;;    # 1.5 s is tight: shorter pads, more speech
        *)          echo "$LEAD $TRAIL" ;;
    esac
}

die() { echo "generate.sh: $*" >&2; exit 1; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }     # calc 'expression'
is_true() { awk "BEGIN { exit !($1) }"; }           # is_true 'condition'

# ---- tools ---------------------------------------------------------------------------
check_only=0
case ${1-} in
    "") ;;
    --check) check_only=1 ;;
    *) die "usage: $0 [--check]" ;;
esac
tools="sox soxi awk od"
[[ $check_only == 1 ]] || tools="espeak-ng $tools"
for tool in $tools; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "'$tool' is not installed. On Debian/Ubuntu: apt-get install espeak-ng sox"
done

# ---- read prompts.tsv ----------------------------------------------------------------
[[ -r $tsv ]] || die "cannot read $tsv"
names=() langs=() texts=()
declare -A seen=() name_set=()
header_seen=0 lineno=0
row_re=$'^([^\t]+)\t([^\t]+)\t([^\t]+)$'
while IFS= read -r line || [[ -n $line ]]; do
    lineno=$((lineno + 1))
    [[ $line == *$'\r'* ]] && die "prompts.tsv:$lineno: CR character (use Unix line endings)"
    [[ -z $line || $line == '#'* ]] && continue
    if [[ $header_seen == 0 ]]; then
        [[ $line == $'name\tlanguage\ttext' ]] ||
            die "prompts.tsv:$lineno: expected the header line 'name<TAB>language<TAB>text'"
        header_seen=1
        continue
    fi
    [[ $line =~ $row_re ]] ||
        die "prompts.tsv:$lineno: need exactly three non-empty TAB-separated columns"
    name=${BASH_REMATCH[1]} lang=${BASH_REMATCH[2]} text=${BASH_REMATCH[3]}
    [[ $name =~ ^[a-z0-9_]+$ ]] || die "prompts.tsv:$lineno: bad name '$name'"
    voice "$lang" >/dev/null || die "prompts.tsv:$lineno: unknown language '$lang' (zh or en)"
    [[ -z ${seen[$name/$lang]-} ]] || die "prompts.tsv:$lineno: duplicate $lang/$name"
    seen[$name/$lang]=1 name_set[$name]=1
    names+=("$name") langs+=("$lang") texts+=("$text")
done <"$tsv"
[[ $header_seen == 1 && ${#names[@]} -gt 0 ]] || die "prompts.tsv has no prompts"
all_langs=(zh en)
for name in "${!name_set[@]}"; do
    for lang in "${all_langs[@]}"; do
        [[ -n ${seen[$name/$lang]-} ]] || die "prompts.tsv: '$name' has no '$lang' line"
    done
done

# ---- synthesis -----------------------------------------------------------------------
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# speak LANG OUT TEXT [FACTOR]: speak TEXT (with optional [zh]/[en] segments) into OUT
# at 22050 Hz mono, silence trimmed at both ends, segments joined by $SEG_GAP of silence.
# FACTOR multiplies the espeak-ng speed (used only to meet a length contract).
speak() {
    local lang=$1 out=$2 text=$3 factor=${4:-1} rest seg_lang seg_text i=0 parts=()
    if [[ $text == '['* ]]; then rest=$text; else rest="[$lang]$text"; fi
    while [[ -n $rest ]]; do
        [[ $rest =~ ^\[(zh|en)\]([^][]+)(.*)$ ]] || die "$lang: bad segment markup in: $text"
        seg_lang=${BASH_REMATCH[1]} seg_text=${BASH_REMATCH[2]} rest=${BASH_REMATCH[3]}
        i=$((i + 1))
        printf '%s\n' "$seg_text" >"$work/seg$i.txt"
        espeak-ng -b 1 -v "$(voice "$seg_lang")" -s "$(awk "BEGIN { printf \"%d\", $(speed "$seg_lang") * $factor + 0.5 }")" \
            -f "$work/seg$i.txt" -w "$work/seg$i.raw.wav"
        sox -R -V1 "$work/seg$i.raw.wav" "$work/seg$i.wav" \
            silence 1 0 "$SILENCE" reverse silence 1 0 "$SILENCE" reverse
        [[ $(soxi -s "$work/seg$i.wav") -gt 0 ]] || die "segment '$seg_text' produced no sound"
        if [[ $i -gt 1 ]]; then
            sox -R -V1 "$work/seg$i.wav" "$work/seg$i.gap.wav" pad "$SEG_GAP" 0
            parts+=("$work/seg$i.gap.wav")
        else
            parts+=("$work/seg$i.wav")
        fi
    done
    if [[ ${#parts[@]} -eq 1 ]]; then cp "${parts[0]}" "$out"; else sox -R -V1 "${parts[@]}" "$out"; fi
}

# tones OUT: the waiting music (prompts whose text starts with "[tones]"): a calm phrase of
# soft plucked notes in E minor with a little reverb, about 9 s, made to be looped.
tones() {
    local out=$1 i=0 note parts=()
    for note in E4 G4 B4 E5 D5 B4 G4 A4 C5 E5 D5 B4 G4 E4 F#4 B4; do
        sox -R -V1 -n -r "$RATE" -c 1 -b 16 "$work/note$i.wav" synth 0.55 pluck "$note" fade q 0.01 0.55 0.35 gain -6
        parts+=("$work/note$i.wav")
        i=$((i + 1))
    done
    sox -R -V1 "${parts[@]}" "$out" reverb 30 50 60
}

generate() {
    local name=$1 lang=$2 text=$3 dest=$here/$2/$1.wav
    local lead trail cmin cmax ctarget speech_s total tempo="" tail_pad n effects=()
    read -r lead trail < <(pads "$name")
    read -r cmin cmax ctarget < <(contract "$name")

    # Synthesise at the normal speed. If that breaks a length contract, synthesise again
    # faster (espeak-ng shortens pauses too, which sounds better than time-stretching),
    # then time-stretch whatever is still missing.
    local want_speech="" factor=1 pass
    for pass in 1 2; do
        if [[ $text == '[tones]'* ]]; then
            tones "$work/speech22k.wav"
        else
            speak "$lang" "$work/speech22k.wav" "$text" "$factor"
        fi
        # resample once; keep float precision until the final write
        sox -R -V1 "$work/speech22k.wav" -e floating-point -b 32 -r "$RATE" "$work/speech.wav" rate -v
        speech_s=$(calc "$(soxi -s "$work/speech.wav") / $RATE")
        total=$(calc "$lead + $speech_s + $trail")
        want_speech=""
        if [[ $ctarget != - ]]; then
            if is_true "$total > $ctarget"; then want_speech=$(calc "$ctarget - $lead - $trail"); fi
        elif [[ $cmax != - ]] && is_true "$total > $cmax"; then
            want_speech=$(calc "$cmax - 0.1 - $lead - $trail")
        fi
        [[ -n $want_speech && $pass == 1 ]] || break
        is_true "$want_speech > 0" || die "$lang/$name: length contract leaves no room for speech"
        factor=$(calc "$speech_s / $want_speech * 1.02")
        if is_true "$factor > $MAX_SPEEDUP"; then factor=$MAX_SPEEDUP; fi
    done
    if [[ -n $want_speech ]]; then
        tempo=$(calc "$speech_s / $want_speech")
        is_true "$tempo <= $MAX_TEMPO" ||
            die "$lang/$name: speech is ${speech_s}s at ${factor}x speed; needs tempo $tempo" \
                "more to meet its length contract (max $MAX_TEMPO). Shorten the text in prompts.tsv"
        effects+=(tempo -s "$tempo")
    fi
    if [[ $factor != 1 || -n $tempo ]]; then
        echo "  $lang/$name: length contract: espeak speed x$factor${tempo:+, tempo x$tempo}"
    fi
    effects+=(gain -n "$PEAK_DB")

    if [[ $ctarget != - ]]; then
        # exact length: pad generously, then cut to the exact sample count
        n=$(awk "BEGIN { printf \"%d\", $ctarget * $RATE + 0.5 }")
        effects+=(pad "$lead" "$ctarget" trim 0 "${n}s")
    else
        tail_pad=$trail
        if [[ $cmin != - ]] && is_true "$total < $cmin"; then
            tail_pad=$(calc "$cmin + 0.1 - $lead - $speech_s")
        fi
        effects+=(pad "$lead" "$tail_pad")
    fi

    mkdir -p "$here/$lang"
    sox -R -V1 "$work/speech.wav" -r "$RATE" -c 1 -b 16 -e signed-integer -t wav \
        "$work/out.wav" "${effects[@]}"
    mv -f "$work/out.wav" "$dest"
}

if [[ $check_only == 0 ]]; then
    echo "espeak-ng: $(espeak-ng --version | head -n1)"
    echo "sox:       $(sox --version 2>&1 | tr -d '\n' | sed 's/^sox: *//')"
    for i in "${!names[@]}"; do
        generate "${names[$i]}" "${langs[$i]}" "${texts[$i]}"
    done
    # remove audio whose prompt was deleted or renamed in prompts.tsv
    for lang in "${all_langs[@]}"; do
        for f in "$here/$lang"/*.wav; do
            [[ -e $f ]] || continue
            n=$(basename "$f" .wav)
            if [[ -z ${seen[$n/$lang]-} ]]; then echo "removing stale $lang/$n.wav"; rm -f "$f"; fi
        done
    done
fi

# ---- verification --------------------------------------------------------------------
le32() { od -An -t u4 -j "$2" -N 4 --endian=little "$1" | tr -d ' '; }
le16() { od -An -t u2 -j "$2" -N 2 --endian=little "$1" | tr -d ' '; }
tag()  { od -An -c -j "$2" -N 4 "$1" | tr -d ' '; }

failures=0
printf '\n%-22s %-4s %9s %8s %8s %7s  %s\n' name lang duration samples peak_dB rms status
for i in "${!names[@]}"; do
    name=${names[$i]} lang=${langs[$i]} f=$here/${langs[$i]}/${names[$i]}.wav
    problems=()
    if [[ ! -f $f ]]; then
        printf '%-22s %-4s %9s %8s %8s %7s  %s\n' "$name" "$lang" - - - - "FAIL: missing"
        failures=$((failures + 1)); continue
    fi
    samples=$(soxi -s "$f")
    [[ $(soxi -r "$f") == "$RATE" ]] || problems+=("rate $(soxi -r "$f")")
    [[ $(soxi -c "$f") == 1 ]] || problems+=("channels $(soxi -c "$f")")
    [[ $(soxi -b "$f") == 16 ]] || problems+=("bits $(soxi -b "$f")")
    [[ $(soxi -e "$f") == "Signed Integer PCM" ]] || problems+=("encoding $(soxi -e "$f")")
    if [[ $(tag "$f" 0) != RIFF || $(tag "$f" 8) != WAVE || $(tag "$f" 12) != "fmt" ||
          $(le32 "$f" 16) != 16 || $(le16 "$f" 20) != 1 || $(tag "$f" 36) != data ||
          $(stat -c %s "$f") != $((44 + 2 * samples)) ]]; then
        problems+=("not a plain 44-byte-header PCM WAV")
    fi
    stats=$(sox "$f" -n stat 2>&1)
    # stat reports the most positive and the most negative sample; peak is the larger magnitude
    peak=$(awk '/^(Maximum|Minimum) amplitude/ { v = $3 < 0 ? -$3 : $3; if (v > p) p = v }
                END { print p + 0 }' <<<"$stats")
    rms=$(awk '/^RMS +amplitude/ { print $3 }' <<<"$stats")
    peak_db=$(calc "20 * log($peak) / log(10)")
    dur=$(calc "$samples / $RATE")
    is_true "$rms >= $MIN_RMS" || problems+=("silent (RMS $rms)")
    is_true "$peak_db > $PEAK_DB - 0.5 && $peak_db < $PEAK_DB + 0.5" || problems+=("peak $peak_db dBFS")
    read -r cmin cmax ctarget < <(contract "$name")
    if [[ $ctarget != - ]] && ! is_true "$dur >= $ctarget - 0.1 && $dur <= $ctarget + 0.1"; then
        problems+=("length ${dur}s, must be ${ctarget}s +/- 0.1")
    fi
    if [[ $cmin != - ]] && ! is_true "$dur >= $cmin"; then problems+=("shorter than ${cmin}s"); fi
    if [[ $cmax != - ]] && ! is_true "$dur <= $cmax"; then problems+=("longer than ${cmax}s"); fi
    status=ok
    if [[ ${#problems[@]} -gt 0 ]]; then
        status="FAIL: $(IFS=';'; echo "${problems[*]}")"
        failures=$((failures + 1))
    fi
    printf '%-22s %-4s %8.3fs %8d %8.2f %7.4f  %s\n' "$name" "$lang" "$dur" "$samples" "$peak_db" "$rms" "$status"
done
total_bytes=$(cat "$here"/{zh,en}/*.wav | wc -c)
echo
echo "${#names[@]} prompts, $(awk "BEGIN { printf \"%.1f\", $total_bytes / 1024 }") KiB of audio"
if [[ $failures -gt 0 ]]; then
    echo "generate.sh: $failures prompt(s) failed verification" >&2
    exit 1
fi
echo "all prompts verified"
