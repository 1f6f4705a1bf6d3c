"""Where a simulated patient lives: a state, a city, a postcode and coordinates that agree.

For the United States (Synthea's own setting) the state is drawn by its 2020 census population and
the home lies around the state's largest city (coordinates spread over a few kilometres, a postcode
of the state's range); for another Faker locale the city and coordinates are one of Faker's real
places of that country, when Faker knows any.  Otherwise the coordinates are left empty rather than
drawn anywhere on the globe.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

__all__ = ["Home", "US_STATES", "home"]

SPREAD_DEGREES = 0.08  # standard deviation of a home around its city (about 9 km north-south)


@dataclass(frozen=True)
class Home:
    state: str
    city: str
    postcode: str
    lat: float | None
    lon: float | None


# abbreviation, name, 2020 census population (thousands), largest city, its latitude and longitude
US_STATES: tuple[tuple[str, str, int, str, float, float], ...] = (
    ("AL", "Alabama", 5024, "Birmingham", 33.52, -86.80),
    ("AK", "Alaska", 733, "Anchorage", 61.22, -149.90),
    ("AZ", "Arizona", 7152, "Phoenix", 33.45, -112.07),
    ("AR", "Arkansas", 3012, "Little Rock", 34.75, -92.29),
    ("CA", "California", 39538, "Los Angeles", 34.05, -118.24),
    ("CO", "Colorado", 5774, "Denver", 39.74, -104.99),
    ("CT", "Connecticut", 3606, "Bridgeport", 41.19, -73.20),
    ("DE", "Delaware", 990, "Wilmington", 39.74, -75.55),
    ("DC", "District of Columbia", 690, "Washington", 38.91, -77.04),
    ("FL", "Florida", 21538, "Jacksonville", 30.33, -81.66),
    ("GA", "Georgia", 10712, "Atlanta", 33.75, -84.39),
    ("HI", "Hawaii", 1455, "Honolulu", 21.31, -157.86),
    ("ID", "Idaho", 1839, "Boise", 43.62, -116.20),
    ("IL", "Illinois", 12813, "Chicago", 41.88, -87.63),
    ("IN", "Indiana", 6786, "Indianapolis", 39.77, -86.16),
    ("IA", "Iowa", 3190, "Des Moines", 41.59, -93.62),
    ("KS", "Kansas", 2938, "Wichita", 37.69, -97.34),
    ("KY", "Kentucky", 4506, "Louisville", 38.25, -85.76),
    ("LA", "Louisiana", 4658, "New Orleans", 29.95, -90.07),
    ("ME", "Maine", 1362, "Portland", 43.66, -70.26),
    ("MD", "Maryland", 6177, "Baltimore", 39.29, -76.61),
    ("MA", "Massachusetts", 7030, "Boston", 42.36, -71.06),
    ("MI", "Michigan", 10077, "Detroit", 42.33, -83.05),
    ("MN", "Minnesota", 5706, "Minneapolis", 44.98, -93.27),
    ("MS", "Mississippi", 2961, "Jackson", 32.30, -90.18),
    ("MO", "Missouri", 6154, "Kansas City", 39.10, -94.58),
    ("MT", "Montana", 1084, "Billings", 45.78, -108.50),
    ("NE", "Nebraska", 1962, "Omaha", 41.26, -95.93),
    ("NV", "Nevada", 3105, "Las Vegas", 36.17, -115.14),
    ("NH", "New Hampshire", 1378, "Manchester", 42.99, -71.46),
    ("NJ", "New Jersey", 9289, "Newark", 40.74, -74.17),
    ("NM", "New Mexico", 2118, "Albuquerque", 35.08, -106.65),
    ("NY", "New York", 20201, "New York", 40.71, -74.01),
    ("NC", "North Carolina", 10439, "Charlotte", 35.23, -80.84),
    ("ND", "North Dakota", 779, "Fargo", 46.88, -96.79),
    ("OH", "Ohio", 11799, "Columbus", 39.96, -83.00),
    ("OK", "Oklahoma", 3959, "Oklahoma City", 35.47, -97.52),
    ("OR", "Oregon", 4237, "Portland", 45.52, -122.68),
    ("PA", "Pennsylvania", 13003, "Philadelphia", 39.95, -75.17),
    ("RI", "Rhode Island", 1097, "Providence", 41.82, -71.41),
    ("SC", "South Carolina", 5118, "Charleston", 32.78, -79.93),
    ("SD", "South Dakota", 887, "Sioux Falls", 43.55, -96.73),
    ("TN", "Tennessee", 6911, "Nashville", 36.16, -86.78),
    ("TX", "Texas", 29146, "Houston", 29.76, -95.37),
    ("UT", "Utah", 3272, "Salt Lake City", 40.76, -111.89),
    ("VT", "Vermont", 643, "Burlington", 44.48, -73.21),
    ("VA", "Virginia", 8631, "Virginia Beach", 36.85, -75.98),
    ("WA", "Washington", 7705, "Seattle", 47.61, -122.33),
    ("WV", "West Virginia", 1794, "Charleston", 38.35, -81.63),
    ("WI", "Wisconsin", 5894, "Milwaukee", 43.04, -87.91),
    ("WY", "Wyoming", 577, "Cheyenne", 41.14, -104.82),
)
_STATE_WEIGHTS = [s[2] for s in US_STATES]


def _around(rng: random.Random, lat: float, lon: float) -> tuple[float, float]:
    return round(lat + rng.gauss(0.0, SPREAD_DEGREES), 6), round(lon + rng.gauss(0.0, SPREAD_DEGREES), 6)


def _state_of_locale(fake: Any) -> str:
    for method in ("state", "administrative_unit"):
        try:
            return str(getattr(fake, method)())
        except AttributeError:
            continue
    return ""


def home(rng: random.Random, fake: Any) -> Home:
    """A home whose state, city, postcode and coordinates agree (see the module's text)."""
    country = fake.current_country_code()
    if country == "US":
        abbr, state, _, city, lat, lon = rng.choices(US_STATES, weights=_STATE_WEIGHTS)[0]
        postcode = fake.zipcode_in_state(abbr)
        return Home(state, city, postcode, *_around(rng, lat, lon))
    postcode = fake.postcode()
    try:
        place = fake.local_latlng(country_code=country, coords_only=False)
    except (AttributeError, IndexError):
        place = None
    if not place:
        return Home(_state_of_locale(fake), fake.city(), postcode, None, None)
    lat, lon = _around(rng, float(place[0]), float(place[1]))
    return Home(_state_of_locale(fake), str(place[2]), postcode, lat, lon)
