using System.Text.Json;

namespace Authio.EdgeProxy.Tokens;

/// <summary>
/// Detects duplicate member names in one JSON object (RFC 7515 §4, RFC 7519 §4: duplicates must be rejected).
/// Names are stored unescaped in a caller's stack arena, so <c>"\u0061lg"</c> and <c>"alg"</c> collide as they should.
/// </summary>
internal static class MemberNames
{
    /// <summary>
    /// Records the current property name. False when it repeats one already seen, or when the object exceeds the
    /// arena or <paramref name="ends"/> (the named limits of the caller).
    /// </summary>
    public static bool TryAdd(ref Utf8JsonReader reader, Span<byte> arena, Span<int> ends, ref int count)
    {
        var used = count == 0 ? 0 : ends[count - 1];
        var raw = reader.ValueSpan;
        if (count == ends.Length || raw.Length > arena.Length - used)
        {
            return false;
        }
        var slot = arena[used..];
        int length;
        if (reader.ValueIsEscaped)
        {
            length = reader.CopyString(slot);
        }
        else
        {
            raw.CopyTo(slot);
            length = raw.Length;
        }
        var name = slot[..length];
        var start = 0;
        for (var i = 0; i < count; i++)
        {
            var end = ends[i];
            if (end - start == length && arena[start..end].SequenceEqual(name))
            {
                return false;
            }
            start = end;
        }
        ends[count++] = used + length;
        return true;
    }
}
