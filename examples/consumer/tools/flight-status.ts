/** The flight_status Lambda tool: the status of a flight from a small timetable (a real one would call the airline's API). */
interface FlightStatusEvent {
  input: { flightNumber: string };
}

const TIMETABLE: Record<string, { from: string; to: string; status: 'on-time' | 'delayed' | 'cancelled'; delayMinutes?: number }> = {
  LH1234: { from: 'FRA', to: 'LIS', status: 'delayed', delayMinutes: 45 },
  UA0099: { from: 'SFO', to: 'FRA', status: 'on-time' },
  AF0007: { from: 'CDG', to: 'JFK', status: 'cancelled' },
};

export async function handler(event: FlightStatusEvent): Promise<unknown> {
  const flight = TIMETABLE[event.input.flightNumber.toUpperCase()];
  if (!flight) throw new Error(`no flight ${event.input.flightNumber} in the timetable`);
  return { flightNumber: event.input.flightNumber.toUpperCase(), ...flight };
}
