using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Authio.Shared.Configuration;

namespace Authio.ControlPlane.Risk;

/// <summary>Where an address is: coordinates and, when known, a country code.</summary>
internal readonly record struct GeoLocation(double Latitude, double Longitude, string? Country);

/// <summary>
/// Address ranges → locations, read once from CSV files in the GeoLite2-City-CSV layout: a blocks file
/// (<c>network,geoname_id,…,latitude,longitude,…</c>; IPv4 and IPv6 networks alike) and optionally a locations file
/// (<c>geoname_id,…,country_iso_code,…</c>). IPv4 is looked up as IPv4-mapped IPv6, so one sorted table serves both.
/// </summary>
internal sealed class LocationTable
{
    private readonly UInt128[] _starts;
    private readonly UInt128[] _ends;
    private readonly GeoLocation[] _locations;

    private LocationTable(List<(UInt128 Start, UInt128 End, GeoLocation Location)> ranges)
    {
        ranges.Sort((a, b) => a.Start.CompareTo(b.Start));
        _starts = [.. ranges.Select(r => r.Start)];
        _ends = [.. ranges.Select(r => r.End)];
        _locations = [.. ranges.Select(r => r.Location)];
    }

    public int Count => _starts.Length;

    public GeoLocation? Find(string? ip)
    {
        if (ip is null || !IPAddress.TryParse(ip, out var address))
        {
            return null;
        }
        var key = KeyOf(address);
        var i = Array.BinarySearch(_starts, key);
        i = i >= 0 ? i : ~i - 1;
        return i >= 0 && key <= _ends[i] ? _locations[i] : null;
    }

    /// <summary>Reads the files; a missing file or a malformed line stops start-up naming <paramref name="key"/>.</summary>
    public static LocationTable Load(string blocksPath, string? namesPath, string key)
    {
        try
        {
            var countries = namesPath is null ? [] : ReadCountries(namesPath);
            var ranges = new List<(UInt128, UInt128, GeoLocation)>();
            using var reader = new StreamReader(blocksPath);
            var header = Split(reader.ReadLine() ?? throw new FormatException("the file is empty"));
            int network = Column(header, "network"), latitude = Column(header, "latitude"), longitude = Column(header, "longitude"), geoname = Column(header, "geoname_id");
            var line = 1;
            while (reader.ReadLine() is { } text)
            {
                line++;
                if (text.Length == 0)
                {
                    continue;
                }
                var fields = Split(text);
                if (fields[latitude].Length == 0 || fields[longitude].Length == 0)
                {
                    continue; // a network known only by its country: no coordinates to travel from
                }
                if (!IPNetwork.TryParse(fields[network], out var net)
                    || !double.TryParse(fields[latitude], NumberStyles.Float, CultureInfo.InvariantCulture, out var lat) || lat is < -90 or > 90
                    || !double.TryParse(fields[longitude], NumberStyles.Float, CultureInfo.InvariantCulture, out var lon) || lon is < -180 or > 180)
                {
                    throw new FormatException($"line {line} is not a network with coordinates");
                }
                var start = KeyOf(net.BaseAddress);
                var bits = net.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 96 + net.PrefixLength : net.PrefixLength;
                var end = bits == 128 ? start : start | (UInt128.MaxValue >> bits);
                ranges.Add((start, end, new GeoLocation(lat, lon, countries.GetValueOrDefault(fields[geoname]))));
            }
            return new LocationTable(ranges);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            throw new ConfigurationException(key, "cannot be read as a GeoLite2-City blocks CSV: " + error.Message);
        }
    }

    private static Dictionary<string, string> ReadCountries(string path)
    {
        using var reader = new StreamReader(path);
        var header = Split(reader.ReadLine() ?? throw new FormatException("the locations file is empty"));
        int id = Column(header, "geoname_id"), country = Column(header, "country_iso_code");
        var countries = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } text)
        {
            var fields = Split(text);
            if (fields.Length > Math.Max(id, country) && fields[country].Length > 0)
            {
                countries[fields[id]] = fields[country];
            }
        }
        return countries;
    }

    private static int Column(string[] header, string name) =>
        Array.IndexOf(header, name) is var i and >= 0 ? i : throw new FormatException($"no '{name}' column");

    // The files quote only fields with commas (city names); the columns read here never contain one.
    private static string[] Split(string line) => line.Split(',').Select(f => f.Trim('"')).ToArray();

    private static UInt128 KeyOf(IPAddress address)
    {
        var bytes = address.AddressFamily == AddressFamily.InterNetwork ? address.MapToIPv6().GetAddressBytes() : address.GetAddressBytes();
        return new UInt128(
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(0, 8)),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(8, 8)));
    }

    /// <summary>Great-circle distance in km (haversine, mean Earth radius).</summary>
    public static double DistanceKm(GeoLocation a, GeoLocation b)
    {
        static double Rad(double degrees) => degrees * Math.PI / 180;
        var dLat = Rad(b.Latitude - a.Latitude);
        var dLon = Rad(b.Longitude - a.Longitude);
        var h = Math.Pow(Math.Sin(dLat / 2), 2) + (Math.Cos(Rad(a.Latitude)) * Math.Cos(Rad(b.Latitude)) * Math.Pow(Math.Sin(dLon / 2), 2));
        return 2 * 6371.0 * Math.Asin(Math.Min(1, Math.Sqrt(h)));
    }
}
